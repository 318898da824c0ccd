"""The push stage of a sync run: the plan's contact changes written to HubSpot, before anything is recorded."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hubspot_pipeline.privacy.store import erased_among
from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.job import SyncJob


@dataclass
class PushOutcome:
    hubspot_ids: dict[str, str]  # lead id (or placeholder) -> contact id written
    errors: dict[str, str]  # lead id (or placeholder) -> what went wrong

    def merge(self, other: PushOutcome) -> None:
        self.hubspot_ids.update(other.hubspot_ids)
        self.errors.update(other.errors)

    def only(self, lead_ids: Collection[str], *, keep: bool = True) -> PushOutcome:
        """The outcome of these pairs alone (keep=False: of every other pair)."""
        ids = set(lead_ids)
        return PushOutcome(
            {k: v for k, v in self.hubspot_ids.items() if (k in ids) == keep},
            {k: v for k, v in self.errors.items() if (k in ids) == keep},
        )


def push_contacts(job: SyncJob, plan: Plan) -> PushOutcome:
    """Write the plan's contact changes: new contacts by upsert on email (a retry after a crash finds the
    contact it created), known ones by id (an email change must not create a second contact)."""
    client = job.client
    writes = plan.contact_writes
    outcome = PushOutcome({}, {})
    if writes.empty or client is None:
        return outcome
    # An erasure committed since the plan was made: its email is not pushed (privacy/erasure.py).
    with job.engine.connect() as conn:
        erased = erased_among(conn, job.workspace_id, [str(e) for e in writes["email"]])
    if erased:
        writes = writes[~writes["email"].isin(erased)]
    creates = writes[writes["hubspot_id"].isna()]
    updates = writes[writes["hubspot_id"].notna()]
    if len(creates):
        result = client.batch_upsert(
            "contacts", [dict(p) for p in creates["properties"]], id_property="email"
        )
        failed = {e.key: e.message for e in result.errors}
        for lead_id, email in zip(creates["lead_id"], creates["email"], strict=True):
            key = str(email).strip().lower()
            if key in result.by_key:
                outcome.hubspot_ids[lead_id] = str(result.by_key[key]["id"])
            else:
                outcome.errors[lead_id] = (
                    failed.get(key) or failed.get("?") or "HubSpot did not confirm this contact"
                )
    if len(updates):
        result = client.batch_update(
            "contacts",
            {str(h): dict(p) for h, p in zip(updates["hubspot_id"], updates["properties"], strict=True)},
        )
        failed = {e.key: e.message for e in result.errors}
        for lead_id, hubspot_id in zip(updates["lead_id"], updates["hubspot_id"], strict=True):
            if str(hubspot_id) in result.by_key:
                outcome.hubspot_ids[lead_id] = str(hubspot_id)
            else:
                outcome.errors[lead_id] = failed.get(str(hubspot_id)) or "HubSpot did not confirm this update"
    return outcome
