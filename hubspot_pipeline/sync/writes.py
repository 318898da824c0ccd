"""The write stages of a sync run: contacts to HubSpot first, then leads, pair state, conflicts and cursors
in one database transaction; and the run's report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline import monitoring
from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.sync import store
from hubspot_pipeline.sync.store import records
from hubspot_pipeline.sync.figures import contact_sync_figures
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.core.plan import NEW_LEAD_PREFIX, Plan
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads


@dataclass
class PushOutcome:
    hubspot_ids: dict[str, str]  # lead id (or placeholder) -> contact id written
    errors: dict[str, str]  # lead id (or placeholder) -> what went wrong


def push_contacts(job: SyncJob, plan: Plan) -> PushOutcome:
    """Write the plan's contact changes: new contacts by upsert on email (a retry after a crash finds the
    contact it created), known ones by id (an email change must not create a second contact)."""
    client = job.client
    writes = plan.contact_writes
    outcome = PushOutcome({}, {})
    if writes.empty or client is None:
        return outcome
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


@dataclass
class SyncReport:
    workspace_id: str
    dry_run: bool
    full: bool
    counts: dict[str, int]
    errors: int
    api_calls: int
    seconds: float
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # a sample
    error_samples: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # filled by engine.run_contact_sync

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def record_sync(
    job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, plan: Plan, pushed: PushOutcome
) -> SyncReport:
    """Write leads, state, conflicts and cursors in one transaction, under the sync's writer setting."""
    errors = dict(pushed.errors)
    lead_writes = plan.lead_writes
    creating = (
        lead_writes["lead_id"].astype(str).str.startswith(NEW_LEAD_PREFIX)
        if len(lead_writes)
        else pd.Series([], dtype=bool)
    )
    with job.engine.begin() as conn, sync_writer(conn):
        new_ids = (
            records.insert_leads(
                conn,
                job.workspace_id,
                [
                    (p, f)
                    for p, f in zip(
                        lead_writes.loc[creating, "lead_id"], lead_writes.loc[creating, "fields"], strict=True
                    )
                ],
            )
            if len(lead_writes)
            else {}
        )
        updates = (
            [
                (i, f)
                for i, f in zip(
                    lead_writes.loc[~creating, "lead_id"], lead_writes.loc[~creating, "fields"], strict=True
                )
                if i not in errors
            ]
            if len(lead_writes)
            else []
        )
        errors.update(records.apply_lead_updates(conn, job.workspace_id, updates))
        records.soft_delete_leads(conn, job.workspace_id, plan.lead_deletes)
        synced, failed, unsettled = [], [], 0
        for row in plan.agreed.to_dict("records"):
            key = str(row["lead_id"])
            lead_id = new_ids.get(key, None if key.startswith(NEW_LEAD_PREFIX) else key)
            hubspot_id = (
                row["hubspot_id"] if isinstance(row["hubspot_id"], str) else pushed.hubspot_ids.get(key)
            )
            if lead_id is None:
                unsettled += 1  # a lead to create from HubSpot was not created: its contact is read again
                continue
            if key in errors or hubspot_id is None:
                failed.append(
                    {
                        "lead_id": lead_id,
                        "hubspot_id": hubspot_id,
                        "error": errors.get(key, "HubSpot did not return the contact's id"),
                    }
                )
            else:
                synced.append(
                    {
                        "lead_id": lead_id,
                        "hubspot_id": hubspot_id,
                        "agreed": row["agreed"],
                        "sync_hash": row["sync_hash"],
                    }
                )
        records.record_synced(conn, job.workspace_id, synced, job.mapping_set)
        records.record_failed(conn, job.workspace_id, failed)
        records.record_tombstones(conn, job.workspace_id, plan.tombstones.to_dict("records"))
        records.forget_pairs(conn, job.workspace_id, plan.unlinks)
        for lead_id, survivor in plan.relinks.items():
            if lead_id not in {r["lead_id"] for r in synced}:
                conn.execute(
                    sa.text(
                        "UPDATE hubspot_sync_status SET hubspot_id = :h WHERE workspace_id = :w "
                        "AND entity_type = 'contact' AND entity_id = CAST(:l AS uuid)"
                    ),
                    {"h": survivor, "w": job.workspace_id, "l": lead_id},
                )
        records.record_conflicts(conn, job.workspace_id, plan.conflicts, job.run_id)
        if changed.outbox_up_to is not None:
            store.set_cursor(conn, job.workspace_id, store.OUTBOX_STREAM, changed.outbox_up_to)
        if not unsettled:
            # Written even when unchanged: its updated_at says when HubSpot was last read up to date.
            position = contacts.search_cursor or {"modified_ms": 0, "object_id": 0}
            store.set_cursor(conn, job.workspace_id, store.SEARCH_STREAM, position)
        store.mark_webhooks_processed(conn, contacts.webhook_ids)
        # Monitoring: contacts written each way, failures and latencies, committed with the writes they count.
        monitoring.record(conn, contact_sync_figures(changed, contacts, plan, pushed, errors, new_ids))
    counts = plan.counts() | {
        "synced": len(synced),
        "failed": len(failed),
        "scanned": changed.scanned,
        "unchanged": plan.unchanged + changed.unchanged_by_hash,
    }
    return _report(job, plan, counts, len(failed), [str(f["error"]) for f in failed[:5]], dry_run=False)


def _report(
    job: SyncJob, plan: Plan, counts: dict[str, int], errors: int, samples: list[str], *, dry_run: bool
) -> SyncReport:
    calls = job.client.metrics.total_calls() if job.client is not None else 0
    conflicts = plan.conflicts.head(10).astype(object).where(plan.conflicts.head(10).notna(), None)
    return SyncReport(
        str(job.workspace_id),
        dry_run,
        job.full,
        {k: int(v) for k, v in counts.items()},
        errors,
        calls,
        round(time.time() - job.started_at, 3),
        [_plain(r) for r in conflicts.to_dict("records")],
        samples,
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | pd.Timestamp) else v) for k, v in row.items()}


def dry_run_report(job: SyncJob, changed: ChangedLeads, plan: Plan) -> SyncReport:
    counts = plan.counts() | {
        "scanned": changed.scanned,
        "unchanged": plan.unchanged + changed.unchanged_by_hash,
    }
    return _report(job, plan, counts, 0, [], dry_run=True)
