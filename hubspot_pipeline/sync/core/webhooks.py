"""What a workspace's queued webhook events say about one object type's records: which were deleted,
merged (loser -> survivor) or restored, which to re-read, and when each property changed (a property
change's `occurredAt` dates its property for the `latest` policy). Deletions and merges never show up in
search, so these events are the only way the sync learns of them. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# HubSpot's object type ids, as the generic `object.*` events carry them in `objectTypeId`.
OBJECT_TYPE_IDS = {"contact": "0-1", "company": "0-2"}


@dataclass
class EventEffects:
    archived: set[str] = field(default_factory=set)
    restored: set[str] = field(default_factory=set)  # restored after any deletion the queue holds
    merges: dict[str, str] = field(default_factory=dict)  # merged-away id -> survivor
    primaries: dict[str, str] = field(default_factory=dict)  # survivor -> the primary of its merge
    wanted: set[str] = field(default_factory=set)  # ids to re-read
    times: dict[str, dict[str, int]] = field(default_factory=dict)  # id -> property -> newest ms


def is_event_of(event: Mapping[str, Any], object_type: str) -> bool:
    """An event about a record of `object_type`: `<type>.*`, or the generic `object.*` with its objectTypeId.
    Every object type numbers its records on its own, so another type's ids say nothing about this one's."""
    family = str(event.get("subscription_type") or "").split(".", 1)[0]
    if family == object_type:
        return True
    payload = event.get("payload") or {}
    return family == "object" and str(payload.get("objectTypeId") or "") == OBJECT_TYPE_IDS[object_type]


def event_effects(events: Iterable[Mapping[str, Any]], object_type: str) -> EventEffects:
    """The effects of the events about `object_type`, in queue order (others are left out)."""
    effects = EventEffects()
    for event in events:
        if not is_event_of(event, object_type):
            continue
        object_id, kind = str(event["object_id"]), str(event["subscription_type"])
        if kind.endswith(".deletion") or kind.endswith(".privacyDeletion"):
            effects.archived.add(object_id)
            effects.restored.discard(object_id)
        elif kind.endswith(".merge"):
            payload = event["payload"] or {}
            survivor = str(payload.get("newObjectId") or payload.get("primaryObjectId") or object_id)
            for loser in payload.get("mergedObjectIds") or []:
                if str(loser) != survivor:
                    effects.merges[str(loser)] = survivor
            if payload.get("primaryObjectId"):
                effects.primaries[survivor] = str(payload["primaryObjectId"])
                if effects.primaries[survivor] != survivor:  # a new id: the primary is merged away too
                    effects.merges[effects.primaries[survivor]] = survivor
            effects.wanted.add(survivor)
        elif kind.endswith(".restore"):
            effects.archived.discard(object_id)
            effects.restored.add(object_id)
            effects.wanted.add(object_id)
        else:
            effects.wanted.add(object_id)
            if event.get("property_name"):
                slot = effects.times.setdefault(object_id, {})
                slot[event["property_name"]] = max(
                    slot.get(event["property_name"], 0), int(event["occurred_at"])
                )
    return effects
