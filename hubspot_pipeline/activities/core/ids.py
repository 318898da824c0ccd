"""The keys that make each event reach HubSpot once.

- A timeline event's `id` is HubSpot's idempotency key ("unique to the app and event template"): the email
  event's own id, so every retry, rerun and backfill posts the same id.
- Emails and notes have no idempotency key. What identifies them after a crash is what they carry: an email
  the Message-ID of its message (in `hs_email_headers`), a note a marker line naming the email event. Recovery
  reads the contact's emails or notes and looks for these.
"""

from __future__ import annotations

import json
import re

NOTE_MARKER_PREFIX = "ColdCopy event "
_NOTE_MARKER = re.compile(r"ColdCopy event ([0-9a-fA-F-]{36})")


def timeline_event_id(event_id: str) -> str:
    return str(event_id)


def note_marker(event_id: str) -> str:
    """The line a note carries to be found again; visible, so a person sees where the note came from."""
    return f"{NOTE_MARKER_PREFIX}{event_id}"


def note_event_id(body: str | None) -> str | None:
    """The email event a note was written for, from its marker (HubSpot may rewrite the HTML around it). The
    last marker counts: ours ends the note, and a subject or URL an outsider wrote may hold another."""
    found = _NOTE_MARKER.findall(body or "")
    return found[-1].lower() if found else None


def headers_message_id(headers: str | None) -> str | None:
    """The Message-ID an email engagement's `hs_email_headers` (a JSON string) carries, if any."""
    if not headers:
        return None
    try:
        value = json.loads(headers)
    except ValueError:
        return None
    found = value.get("messageId") if isinstance(value, dict) else None
    return found.strip() if isinstance(found, str) and found.strip() else None
