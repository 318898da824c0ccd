"""Engagements and app events on record timelines (reference §6). Workflows are in workflows.py.

    client.create_engagements("emails", [(key, {"hs_timestamp": ..., "hs_email_direction": "EMAIL"}, "601")],
                              association_type=EMAIL_TO_CONTACT)      # one batch of <= 100, results by key
    client.create_timeline_events([{"eventTemplateId": "1001", "id": "evt-1", "objectId": "601", "tokens": {}}])

Engagements (emails, notes) have no idempotency key in HubSpot, and a unique custom property would only
move the problem (it is a portal-wide schema change, and HubSpot's upsert on it is not an engagement's
create): so a create is never retried once it may have reached HubSpot, and a row whose outcome is unknown
(5xx, a lost connection) comes back as `RowError(retryable=True)` for the caller to resolve by reading the
contact's engagements. Timeline events carry their `id`, HubSpot's idempotency key: they are retried freely,
and a repeat (a 409, or an overwrite answered like a create) means the event is there, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hubspot_pipeline.hubspot.associations import AssociationOps
from hubspot_pipeline.hubspot.batch import BATCH_SIZE, BatchOps, BatchResult, RowError, _strings, chunks
from hubspot_pipeline.hubspot.objects import ObjectOps

EMAIL_TO_CONTACT = 198
NOTE_TO_CONTACT = 202
TIMELINE = "/integrators/timeline/v3/events"


def contact_link(contact_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": str(contact_id)},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


@dataclass
class TimelineResult:
    created: list[str] = field(default_factory=list)  # event ids HubSpot took now
    existing: list[str] = field(default_factory=list)  # event ids HubSpot already had (a repeat)
    errors: list[RowError] = field(default_factory=list)  # key: the event id

    def merge(self, other: TimelineResult) -> None:
        self.created.extend(other.created)
        self.existing.extend(other.existing)
        self.errors.extend(other.errors)


def _is_repeat(status: int | None, category: str | None, message: str) -> bool:
    return status == 409 or category == "CONFLICT" or "already exists" in message


class ActivityOps(BatchOps, ObjectOps, AssociationOps):
    def create_engagements(
        self,
        object_type: str,
        items: Sequence[tuple[str, Mapping[str, Any], str]],
        *,
        association_type: int,
    ) -> BatchResult:
        """Create emails or notes, each associated with its contact on create: `items` are (key, properties,
        contact id), at most 100, sent in one call (the caller chunks, so it can record each batch before it
        is sent). `by_key` maps each key to the object created; `errors` name their key."""
        if len(items) > BATCH_SIZE:
            raise ValueError(
                f"create_engagements takes at most {BATCH_SIZE} items per call, got {len(items)}"
            )
        path = self.objects_path(object_type) + "/batch/create"
        contacts = {key: contact for key, _, contact in items}

        def send(batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
            inputs = [
                {
                    "properties": _strings(properties),
                    "objectWriteTraceId": str(i),
                    "associations": [contact_link(contacts[key], association_type)],
                }
                for i, (key, properties) in enumerate(batch)
            ]
            response = self.call(
                "POST", path, json={"inputs": inputs}, endpoint=f"POST {path}", idempotent=False
            )
            return self._parse(response.body, batch, None)

        return self._isolating([(key, dict(properties)) for key, properties, _ in items], send)

    def create_timeline_events(self, events: Sequence[Mapping[str, Any]]) -> TimelineResult:
        """Post app events (camelCase keys, each with its `id`) in batches of 100."""
        result = TimelineResult()
        for batch in chunks([(str(e["id"]), dict(e)) for e in events], BATCH_SIZE):
            found = self._isolating(list(batch), self._send_timeline)
            for row in found.results:
                (result.existing if row.get("existing") else result.created).append(str(row["id"]))
            for error in found.errors:
                if _is_repeat(error.status, error.category, error.message):
                    result.existing.append(error.key)
                else:
                    result.errors.append(error)
        return result

    def _send_timeline(self, batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
        path = TIMELINE + "/batch/create"
        body = self.call(
            "POST", path, json={"inputs": [event for _, event in batch]}, endpoint=f"POST {path}"
        ).body
        result = BatchResult()
        for item in (body or {}).get("results", []):
            result.results.append(item)
        for error in (body or {}).get("errors", []):
            context = error.get("context") or {}
            status = int(error["status"]) if str(error.get("status", "")).isdigit() else None
            for key in [str(i) for i in context.get("id", []) + context.get("ids", [])] or ["?"]:
                result.errors.append(
                    RowError(key, status, error.get("category"), str(error.get("message", "")), context)
                )
        return result
