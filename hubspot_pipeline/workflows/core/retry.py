"""When a failed execution is tried again, and when it is given up: exponential backoff, capped."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_ATTEMPTS = 6
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
# A lead whose contact is not in HubSpot yet is looked at again this often, for this long, then skipped.
CONTACT_WAIT_STEP = timedelta(minutes=1)
CONTACT_WAIT_LIMIT = timedelta(days=1)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """After `attempts` failed attempts: when to try again, or None to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_DELAY * 2 ** max(0, attempts - 1), MAX_DELAY)
