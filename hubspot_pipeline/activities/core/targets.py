"""Which HubSpot object an email event becomes (docs/architecture.md, "Email activity", says why).

- `sent` → an email engagement (`hs_email_direction=EMAIL`) on the contact: where HubSpot users look for the
  emails a contact was sent, with subject and body, in the contact's activity feed and its email reports.
- `replied` → an `INCOMING_EMAIL` engagement on the same contact, In-Reply-To in its headers: the reply
  itself, threaded under the email it answers.
- `delivered`, `opened`, `clicked`, `bounced`, `unsubscribed` → a timeline event of the app's template for
  that type: they are things that happened to an email, not emails, and a timeline event carries an
  idempotency key and typed tokens (campaign, subject, URL, bounce reason) without creating CRM records.
  HubSpot refuses timeline events from private apps, so on a private-app portal these become notes on the
  contact or nothing, as the workspace chose (`activity_timeline_fallback`).
"""

from __future__ import annotations

from typing import Literal

from hubspot_pipeline.activities.core.events import TimelineFallback

Target = Literal["email", "timeline_event", "note", "skip"]

EMAIL_DIRECTIONS = {"sent": "EMAIL", "replied": "INCOMING_EMAIL"}
TIMELINE_TYPES = ("delivered", "opened", "clicked", "bounced", "unsubscribed")
# The direction of the message each engagement type is about.
MESSAGE_DIRECTION = {"sent": "sent", "replied": "received"}


def target_of(event_type: str, *, timeline_supported: bool, fallback: TimelineFallback) -> Target:
    """The HubSpot object for an event of this type on a portal that does (OAuth app) or does not (private
    app) accept timeline events."""
    if event_type in EMAIL_DIRECTIONS:
        return "email"
    if event_type not in TIMELINE_TYPES:
        raise ValueError(f"unknown email event type {event_type!r}")
    if timeline_supported:
        return "timeline_event"
    return "note" if fallback == "notes" else "skip"
