"""Time formats HubSpot uses: ISO-8601 UTC with milliseconds for timestamps, epoch milliseconds in
webhooks and search filters, `YYYY-MM-DD` for date properties."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

DAY_MS = 86_400_000


@functools.lru_cache(maxsize=8192)  # a batch stamps every record with the same few instants
def iso_ms(epoch_ms: int) -> str:
    """`2019-10-30T03:30:17.883Z`, the form of createdAt/updatedAt and datetime properties."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def parse_epoch_ms(value: str) -> int | None:
    """Epoch milliseconds from either an integer string or an ISO-8601 date/datetime; None if neither."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def clock_of_day(epoch_ms: int) -> str:
    """`18:31:29.103`, as HubSpot names the time in its "not midnight" error."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%H:%M:%S.") + f"{epoch_ms % 1000:03d}"
