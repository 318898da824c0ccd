"""The events triggers fire on, from two sources, and which trigger types each one can fire.

- ColdCopy's email events (`email_events`: opened, clicked, replied, bounced, unsubscribed; sent and delivered
  fire nothing), read by the sensor or posted to POST /workflows/process.
- Engagement events (`engagement_events`, written by the scoring): score changes and decided reply intents.
  A reply posted to POST /workflows/process has its intent decided there too.

Each (trigger, event) executes at most once; the event's key says which events are "the same". A reply's
intent has one key whichever path decided it (the message's id), so the API and the sensor never both act on
one reply. A threshold_crossed event fires nothing itself: every high_engagement trigger judges the score
change against its own threshold (threshold.py), so the scoring's crossing and ours cannot fire twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EMAIL_TRIGGER_TYPES = {
    "opened": "email_opened",
    "clicked": "email_clicked",
    "replied": "email_replied",
    "bounced": "email_bounced",
    "unsubscribed": "unsubscribe",
}
INTENT_TRIGGER_TYPES = {"interested": "positive_reply", "unsubscribe_request": "unsubscribe"}


@dataclass(frozen=True)
class Event:
    source: Literal["email", "engagement"]
    source_id: str  # email_events.id or engagement_events.id
    kind: str  # an email event type, or score_changed / threshold_crossed / intent_decided
    workspace_id: uuid.UUID
    lead_id: uuid.UUID
    occurred_at: datetime
    fields: Mapping[str, Any] = field(default_factory=dict)  # the event.* fields (fields.py)
    message_id: str | None = None  # the reply an intent is about

    @property
    def key(self) -> str:
        """The identity executions are unique on, with the trigger."""
        if self.kind == "intent_decided":
            return f"reply:{self.message_id or self.source_id}"
        return f"{self.source}:{self.source_id}"


def trigger_types(event: Event) -> set[str]:
    """The trigger event types this event can fire."""
    if event.kind == "intent_decided":
        found = INTENT_TRIGGER_TYPES.get(str(event.fields.get("intent")))
        return {found} if found else set()
    if event.source == "email":
        return {EMAIL_TRIGGER_TYPES[event.kind]} if event.kind in EMAIL_TRIGGER_TYPES else set()
    if event.kind == "score_changed":
        return {"score_changed", "high_engagement"}
    return set()


def evaluation_context(
    lead: Mapping[str, Any], engagement: Mapping[str, Any], event: Event
) -> dict[str, Mapping[str, Any]]:
    """What conditions and templates read: the lead's fields, its engagement, and the event's fields."""
    engagement = dict(engagement)
    if event.fields.get("new_score") is not None:
        engagement["score"] = event.fields["new_score"]
    if event.kind == "intent_decided" and event.fields.get("intent"):
        engagement["last_intent"] = event.fields["intent"]
    return {
        "lead": dict(lead),
        "engagement": engagement,
        "event": {"occurred_at": event.occurred_at.isoformat(), **event.fields},
    }
