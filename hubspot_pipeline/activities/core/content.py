"""What each HubSpot object carries, at the workspace's content level (message content is personal data):

| carried                                  | full | subject | metadata |
|------------------------------------------|------|---------|----------|
| time, direction, status, campaign, step  | yes  | yes     | yes      |
| from/to addresses, Message-ID, In-Reply-To | yes | yes    | yes      |
| subject                                  | yes  | yes     | no       |
| text and HTML body                       | yes  | no      | no       |
| clicked link                             | whole URL | without query and fragment | scheme and host |
| bounce reason                            | yes  | yes     | no       |

Addresses and the Message-ID stay at every level: the contact already holds its address, and the Message-ID
is what finds an email again after a crash. Values longer than HubSpot's 65,536 characters are cut (text) or
left out (HTML, which a cut would break).
"""

from __future__ import annotations

import html
import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from hubspot_pipeline.activities.core.events import ContentLevel, EmailEvent, Message
from hubspot_pipeline.activities.core.ids import note_marker, timeline_event_id
from hubspot_pipeline.activities.core.targets import EMAIL_DIRECTIONS
from hubspot_pipeline.activities.core.templates import TemplateDefinition

MAX_VALUE_LENGTH = 65_536  # HubSpot's limit for a string property value (reference §6.2)
TRUNCATED = "\n[…]"
NOTE_FIELD_LENGTH = 2_000  # each value a note shows; far below the 65,536 of the whole body

NOTE_TITLES = {
    "delivered": "Email delivered",
    "opened": "Email opened",
    "clicked": "Link clicked",
    "bounced": "Email bounced",
    "unsubscribed": "Unsubscribed",
}


def iso_ms(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds, as HubSpot writes times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - len(TRUNCATED)] + TRUNCATED


def _person(address: str, display_name: str | None) -> dict[str, str]:
    first, _, last = (display_name or "").strip().partition(" ")
    person = {"email": address}
    if first:
        person["firstName"] = first
    if last.strip():
        person["lastName"] = last.strip()
    return person


def email_headers(message: Message) -> str:
    """`hs_email_headers`: HubSpot's JSON string of from/to/cc/bcc, plus the message's Message-ID and
    In-Reply-To (HubSpot keeps the string as given; recovery reads the Message-ID back from it)."""
    headers: dict[str, Any] = {
        "from": _person(message.from_address, message.from_name),
        "to": [_person(message.to_address, message.to_name)],
        "cc": [],
        "bcc": [],
        "messageId": message.message_id_header,
    }
    if message.in_reply_to_header:
        headers["inReplyTo"] = message.in_reply_to_header
    return json.dumps(headers, ensure_ascii=False, separators=(",", ":"))


def email_properties(event: EmailEvent, level: ContentLevel) -> dict[str, str]:
    """The email engagement of a `sent` or `replied` event (its message is checked by `validation`)."""
    message = event.message
    assert message is not None, "validation keeps engagement events without a message out"
    properties = {
        "hs_timestamp": iso_ms(event.occurred_at),
        "hs_email_direction": EMAIL_DIRECTIONS[event.event_type],
        "hs_email_headers": email_headers(message),
    }
    if event.event_type == "sent":
        properties["hs_email_status"] = "SENT"
    if level in ("full", "subject") and message.subject:
        properties["hs_email_subject"] = _cut(message.subject)
    if level == "full":
        if message.body_text:
            properties["hs_email_text"] = _cut(message.body_text)
        if message.body_html and len(message.body_html) <= MAX_VALUE_LENGTH:
            properties["hs_email_html"] = message.body_html
    return properties


def link_at(url: str, level: ContentLevel) -> str:
    """A clicked link at a content level: query strings and fragments often carry tracking ids or addresses."""
    if level == "full":
        return url
    parts = urllib.parse.urlsplit(url)
    if level == "subject":
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return f"{parts.scheme}://{parts.hostname or ''}"


def timeline_tokens(event: EmailEvent, level: ContentLevel, definition: TemplateDefinition) -> dict[str, str]:
    message = event.message
    tokens: dict[str, str] = {}
    if event.campaign_name:
        tokens["campaign"] = event.campaign_name
    if message is not None and message.campaign_step is not None:
        tokens["step"] = str(message.campaign_step)
    if level != "metadata" and message is not None and message.subject:
        tokens["subject"] = message.subject
    if event.link_url:
        tokens["url"] = link_at(event.link_url, level)
    if event.bounce_reason and level != "metadata":
        tokens["bounce_reason"] = event.bounce_reason
    names = definition.token_names()
    return {name: _cut(value) for name, value in tokens.items() if name in names}


def timeline_event(
    event: EmailEvent, template_id: str, level: ContentLevel, definition: TemplateDefinition
) -> dict[str, Any]:
    """The TimelineEvent body: on the contact by id (never by email, which would create a contact)."""
    return {
        "eventTemplateId": template_id,
        "id": timeline_event_id(event.id),
        "objectId": str(event.contact_id),
        "timestamp": iso_ms(event.occurred_at),
        "tokens": timeline_tokens(event, level, definition),
    }


def note_body(event: EmailEvent, level: ContentLevel) -> str:
    """What a timeline event would have shown, as a note (private-app portals), with the marker line."""
    message = event.message
    title = NOTE_TITLES[event.event_type]
    subject = message.subject[:NOTE_FIELD_LENGTH] if message is not None and level != "metadata" else ""
    lines = [
        f"<p><strong>{html.escape(title)}</strong>"
        + (f": “{html.escape(subject)}”" if subject else "")
        + "</p>"
    ]
    if event.campaign_name:
        step = f", step {message.campaign_step}" if message is not None and message.campaign_step else ""
        lines.append(f"<p>Campaign: {html.escape(event.campaign_name)}{step}</p>")
    if event.link_url:
        lines.append(f"<p>Link: {html.escape(link_at(event.link_url, level)[:NOTE_FIELD_LENGTH])}</p>")
    if event.bounce_reason and level != "metadata":
        lines.append(f"<p>Reason: {html.escape(event.bounce_reason[:NOTE_FIELD_LENGTH])}</p>")
    lines.append(f"<p>{note_marker(event.id)}</p>")  # last, and never cut: recovery looks for it
    return "".join(lines)


def note_properties(event: EmailEvent, level: ContentLevel) -> dict[str, str]:
    return {"hs_timestamp": iso_ms(event.occurred_at), "hs_note_body": note_body(event, level)}
