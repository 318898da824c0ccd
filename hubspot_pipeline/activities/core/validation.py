"""What makes an email event unusable, said so that ColdCopy's team can fix the row. Such an event goes to
the retry index with the message (a later run logs it once the row is fixed); the others are logged. The
messages name rows by id and never repeat a value (an address, a subject, a URL): they are shown in the API
and the Dagster UI."""

from __future__ import annotations

import re
import urllib.parse

from hubspot_pipeline.activities.core.events import EVENT_TYPES, EmailEvent
from hubspot_pipeline.activities.core.targets import EMAIL_DIRECTIONS, MESSAGE_DIRECTION

_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


def problem_of(event: EmailEvent) -> str | None:
    """Why this event cannot be logged, or None."""
    kind, name = event.event_type, f"{event.event_type} event {event.id}"
    if kind not in EVENT_TYPES:
        return (
            f"email event {event.id} has an unknown type {kind!r}; expected one of {', '.join(EVENT_TYPES)}"
        )
    message = event.message
    if kind in EMAIL_DIRECTIONS:
        wanted = MESSAGE_DIRECTION[kind]
        if message is None:
            return (
                f"{name} has no message: set email_events.message_id to the {wanted} message it is about "
                "(an email engagement needs its subject, addresses and Message-ID)"
            )
        if message.direction != wanted:
            return f"{name} refers to {message.direction} message {message.id}; a {kind} event needs a {wanted} one"
    if message is not None:
        if message.lead_id != event.lead_id:
            return f"{name} is about message {message.id}, which belongs to another lead ({message.lead_id})"
        if not _MESSAGE_ID.match(message.message_id_header.strip()):
            return f"message {message.id} of {name} has a Message-ID that is not of the form <local@domain>"
        for role, address in (("from", message.from_address), ("to", message.to_address)):
            if not _ADDRESS.match(address.strip()):
                return f"message {message.id} of {name} has no valid {role} address"
    if kind == "clicked":
        if not event.link_url:
            return f"{name} has no link_url: a click needs the URL that was clicked"
        parts = urllib.parse.urlsplit(event.link_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL itself is not repeated: its query may hold the lead's address.
            return f"{name} has a link_url that is not an http(s) URL (scheme {parts.scheme[:20]!r})"
    return None
