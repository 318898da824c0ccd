"""The values the activity log works on: an email event with its message and its lead's HubSpot contact, and
a workspace's choices (which event types, how much content, what replaces timeline events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

EVENT_TYPES = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed")
# What a workspace logs unless it chooses otherwise: `delivered` follows nearly every `sent`, so it is noise
# on a contact's timeline for most teams; a workspace that wants it adds it.
DEFAULT_EVENT_TYPES = ("sent", "opened", "clicked", "replied", "bounced", "unsubscribed")
CONTENT_LEVELS = ("full", "subject", "metadata")
TIMELINE_FALLBACKS = ("notes", "skip")

ContentLevel = Literal["full", "subject", "metadata"]
TimelineFallback = Literal["notes", "skip"]


@dataclass(frozen=True)
class Message:
    """A message ColdCopy sent or received, as the mail server saw it."""

    id: str
    lead_id: str
    direction: str  # sent | received
    message_id_header: str  # <...@...>
    in_reply_to_header: str | None
    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    body_text: str | None
    body_html: str | None
    campaign_step: int | None
    sent_at: datetime


@dataclass(frozen=True)
class EmailEvent:
    """One email event and what logging it needs: its message, its campaign's name and the HubSpot contact of
    its lead (None while the contact sync has not created it)."""

    id: str
    lead_id: str
    event_type: str
    occurred_at: datetime
    campaign_name: str | None = None
    link_url: str | None = None
    bounce_reason: str | None = None
    message: Message | None = None
    contact_id: str | None = None


@dataclass(frozen=True)
class ActivitySettings:
    """A workspace's choices. `enabled` is false when its sync or `sync_activities` is off: nothing is sent."""

    enabled: bool = True
    event_types: frozenset[str] = frozenset(DEFAULT_EVENT_TYPES)
    content: ContentLevel = "full"
    timeline_fallback: TimelineFallback = "notes"
    since: datetime | None = None

    def logs(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types
