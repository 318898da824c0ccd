"""Engagements and app events on record timelines (reference §6), and workflow enrollment (§7.1).

    client.log_emails([{"hs_timestamp": "...", "hs_email_direction": "EMAIL", "coldcopy_event_key": "k1", ...}],
                      contact_ids=["601"], key_property="coldcopy_event_key")
    client.create_note("601", "Replied: interested", timestamp_ms=...)
    client.create_timeline_event({"eventTemplateId": "1001", "id": "evt-1", "email": "a@x.com", "tokens": {...}})
    client.enroll_in_workflow("12345", "a@x.com"); client.unenroll_from_workflow("12345", "a@x.com")

Emails are written idempotently when `key_property` names a unique custom property (batch upsert on it),
so an activity backfill never duplicates an engagement. Timeline event ids are HubSpot's idempotency key:
a 409 for an id already posted means it is there.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from hubspot_pipeline.hubspot.associations import AssociationOps
from hubspot_pipeline.hubspot.batch import BatchOps, BatchResult, RowError, chunks
from hubspot_pipeline.hubspot.objects import ObjectOps

EMAIL_TO_CONTACT = 198
NOTE_TO_CONTACT = 202
TIMELINE = "/integrators/timeline/v3/events"


def _contact_link(contact_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": str(contact_id)},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


class ActivityOps(BatchOps, ObjectOps, AssociationOps):
    def log_emails(
        self,
        emails: Sequence[Mapping[str, Any]],
        contact_ids: Sequence[str],
        *,
        key_property: str | None = None,
    ) -> BatchResult:
        """Log email engagements, the i-th associated with contact_ids[i]."""
        if key_property:
            result = self.batch_upsert("emails", emails, id_property=key_property)
            pairs = [
                (str(result.by_key[str(e[key_property]).strip()]["id"]), str(contact))
                for e, contact in zip(emails, contact_ids, strict=True)
                if str(e[key_property]).strip() in result.by_key
            ]
            if pairs:
                for error in self.batch_associate("emails", "contacts", pairs, type_id=EMAIL_TO_CONTACT):
                    result.errors.append(_association_error(error))
            return result
        links = [[_contact_link(c, EMAIL_TO_CONTACT)] for c in contact_ids]
        return self.batch_create("emails", emails, associations=links)

    def create_note(self, contact_id: str, body: str, *, timestamp_ms: int) -> dict[str, Any]:
        return self.create(
            "notes",
            {"hs_note_body": body, "hs_timestamp": str(timestamp_ms)},
            associations=[_contact_link(contact_id, NOTE_TO_CONTACT)],
        )

    def create_timeline_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Post one app event (camelCase keys; `id` is the idempotency key). A repeat returns its 409 body."""
        response = self.call("POST", TIMELINE, json=dict(event), endpoint=f"POST {TIMELINE}", accept=(409,))
        return response.body or {}

    def create_timeline_events(self, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Post app events in batches of 100; returns HubSpot's per-row errors."""
        path = TIMELINE + "/batch/create"
        errors: list[dict[str, Any]] = []
        for batch in chunks(list(events), 100):
            body = self.call(
                "POST", path, json={"inputs": list(batch)}, endpoint=f"POST {path}", accept=(409,)
            ).body
            errors.extend((body or {}).get("errors", []))
        return errors

    def enroll_in_workflow(self, workflow_id: str, email: str) -> None:
        path = f"/automation/v2/workflows/{workflow_id}/enrollments/contacts/{urllib.parse.quote(email, safe='')}"
        self.call("POST", path, endpoint="POST /automation/v2/workflows/{id}/enrollments/contacts/{email}")

    def unenroll_from_workflow(self, workflow_id: str, email: str) -> None:
        path = f"/automation/v2/workflows/{workflow_id}/enrollments/contacts/{urllib.parse.quote(email, safe='')}"
        self.call(
            "DELETE", path, endpoint="DELETE /automation/v2/workflows/{id}/enrollments/contacts/{email}"
        )

    def list_flows(self) -> list[dict[str, Any]]:
        flows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
            body = self.call(
                "GET", "/automation/v4/flows", params=params, endpoint="GET /automation/v4/flows"
            ).body
            flows.extend((body or {}).get("results", []))
            after = (((body or {}).get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return flows


def _association_error(error: Mapping[str, Any]) -> RowError:
    return RowError(
        "?", None, error.get("category"), str(error.get("message", "")), dict(error.get("context") or {})
    )
