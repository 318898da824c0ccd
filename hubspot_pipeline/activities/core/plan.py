"""A batch of pending email events, sorted into what to write to HubSpot: engagements (emails, notes),
timeline events, events the workspace chose to skip, unusable events (with why) and events waiting for their
lead's HubSpot contact (not an error: the contact sync creates it, and a later run logs the event)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hubspot_pipeline.activities.core.content import email_properties, note_properties, timeline_event
from hubspot_pipeline.activities.core.events import ActivitySettings, EmailEvent
from hubspot_pipeline.activities.core.ids import note_marker
from hubspot_pipeline.activities.core.targets import target_of
from hubspot_pipeline.activities.core.templates import TEMPLATES
from hubspot_pipeline.activities.core.validation import problem_of


@dataclass(frozen=True)
class Engagement:
    """An email or note to create. `match_key` finds it again after a crash: the Message-ID of an email,
    the marker line of a note."""

    event: EmailEvent
    object_type: Literal["email", "note"]
    properties: dict[str, str]
    contact_id: str
    match_key: str


@dataclass(frozen=True)
class TimelineItem:
    event: EmailEvent
    payload: dict[str, Any]  # the TimelineEvent body, its `id` the idempotency key


@dataclass
class ActivityPlan:
    engagements: list[Engagement] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    skipped: list[EmailEvent] = field(default_factory=list)
    invalid: list[tuple[EmailEvent, str]] = field(default_factory=list)
    waiting: list[EmailEvent] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        kinds = Counter(e.object_type for e in self.engagements)
        return {
            "emails": kinds["email"],
            "notes": kinds["note"],
            "timeline_events": len(self.timeline),
            "skipped": len(self.skipped),
            "invalid": len(self.invalid),
            "waiting_for_contact": len(self.waiting),
        }


def plan_events(
    events: Iterable[EmailEvent],
    settings: ActivitySettings,
    *,
    timeline_supported: bool,
    template_ids: Mapping[str, str],
) -> ActivityPlan:
    """Sort events into a plan. `template_ids` maps each timeline event type to its template in HubSpot (only
    needed where timeline events are supported)."""
    plan = ActivityPlan()
    level = settings.content
    engaged: dict[str, str] = {}  # Message-ID header -> the event whose engagement carries it
    for event in events:
        problem = problem_of(event)
        if problem is not None:
            plan.invalid.append((event, problem))
            continue
        if event.contact_id is None:
            plan.waiting.append(event)
            continue
        target = target_of(
            event.event_type, timeline_supported=timeline_supported, fallback=settings.timeline_fallback
        )
        if target == "email":
            assert event.message is not None
            key = event.message.message_id_header.strip()
            if key in engaged:
                plan.invalid.append(
                    (
                        event,
                        f"{event.event_type} event {event.id} is about message {key}, already logged by event "
                        f"{engaged[key]}: one email engagement per message",
                    )
                )
                continue
            engaged[key] = event.id
            plan.engagements.append(
                Engagement(event, "email", email_properties(event, level), event.contact_id, key)
            )
        elif target == "note":
            plan.engagements.append(
                Engagement(
                    event, "note", note_properties(event, level), event.contact_id, note_marker(event.id)
                )
            )
        elif target == "timeline_event":
            template_id = template_ids.get(event.event_type)
            if template_id is None:
                raise ValueError(
                    f"no event template id for {event.event_type!r} events; ensure the templates first"
                )
            definition = TEMPLATES[event.event_type]
            plan.timeline.append(TimelineItem(event, timeline_event(event, template_id, level, definition)))
        else:
            plan.skipped.append(event)
    return plan
