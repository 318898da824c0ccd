"""The record stage of a sync run: pairs whose only write was their contact's page by page as their pages are
pushed (`record_page`, core/pages.py), then everything else (leads, the other pairs' state, conflicts and the
cursors) in one database transaction after the push (`record_sync`); and the run's report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline import monitoring
from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.privacy.store import erased_among, lock_workspace
from hubspot_pipeline.sync.core.mapping import EMAIL
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX
from hubspot_pipeline.sync.core.pages import without_pairs
from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.figures import contact_sync_figures
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.push import PushOutcome
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads
from hubspot_pipeline.sync.store import queues, records


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


def record_page(
    job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, page: Plan, pushed: PushOutcome
) -> Settled:
    """Record a page of pairs whose only write was their contact's (core/pages.py) as soon as it is pushed,
    in a transaction of its own: pair state or the retry index, and their monitoring figures. Nothing else:
    the cursors move at the end (`record_sync`), so a run that dies later reads these pairs again and finds
    them recorded."""
    errors = dict(pushed.errors)
    with job.engine.begin() as conn, sync_writer(conn):
        lock_workspace(conn, job.workspace_id)  # as in record_sync: an erasure since the plan wins
        page = _without_erased_pairs(conn, job, page)
        settled = settle_pairs(page.agreed, pushed, errors, {})
        records.record_synced(conn, job.workspace_id, settled.synced, job.mapping_set)
        records.record_failed(conn, job.workspace_id, settled.failed)
        monitoring.record(conn, contact_sync_figures(changed, contacts, page, pushed, errors, {}))
    return settled


@dataclass
class PagesRecorded:
    """The pairs `record_page` recorded during the push: `record_sync` leaves them out and counts them."""

    lead_ids: set[str] = field(default_factory=set)
    synced: int = 0
    failed: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, lead_ids: list[str], settled: Settled) -> None:
        self.lead_ids.update(lead_ids)
        self.synced += len(settled.synced)
        self.failed += len(settled.failed)
        self.samples += [str(f["error"]) for f in settled.failed[: max(0, 5 - len(self.samples))]]


def record_sync(
    job: SyncJob,
    changed: ChangedLeads,
    contacts: ChangedContacts,
    plan: Plan,
    pushed: PushOutcome,
    pages: PagesRecorded | None = None,
) -> SyncReport:
    """Write leads, state, conflicts and cursors in one transaction, under the sync's writer setting; the
    pairs already recorded with their pages (`pages`) are only counted."""
    pages = pages or PagesRecorded()
    whole = plan
    plan, pushed = without_pairs(plan, pages.lead_ids), pushed.only(pages.lead_ids, keep=False)
    errors = dict(pushed.errors)
    with job.engine.begin() as conn, sync_writer(conn):
        # Under the workspace's privacy lock: a person erased while this run was under way is left out.
        lock_workspace(conn, job.workspace_id)
        plan = _without_erased_pairs(conn, job, plan)
        new_ids = _write_leads(conn, job, plan, errors)
        settled = settle_pairs(plan.agreed, pushed, errors, new_ids)
        settle_refused(settled, plan.refused)
        records.record_synced(conn, job.workspace_id, settled.synced, job.mapping_set)
        records.record_failed(conn, job.workspace_id, settled.failed)
        records.record_tombstones(conn, job.workspace_id, plan.tombstones.to_dict("records"))
        records.forget_pairs(conn, job.workspace_id, plan.unlinks)
        synced_ids = {r["lead_id"] for r in settled.synced}
        records.relink_pairs(
            conn, job.workspace_id, {i: s for i, s in plan.relinks.items() if i not in synced_ids}
        )
        records.record_conflicts(conn, job.workspace_id, plan.conflicts, job.run_id)
        if changed.outbox_up_to is not None:
            queues.set_cursor(conn, job.workspace_id, queues.OUTBOX_STREAM, changed.outbox_up_to)
        if not settled.unsettled:
            # Written even when unchanged: its updated_at says when HubSpot was last read up to date.
            position = contacts.search_cursor or {"modified_ms": 0, "object_id": 0}
            queues.set_cursor(conn, job.workspace_id, queues.SEARCH_STREAM, position)
        queues.mark_webhooks_processed(conn, contacts.webhook_ids)
        # Monitoring: contacts written each way, failures and latencies, committed with the writes they count.
        monitoring.record(conn, contact_sync_figures(changed, contacts, plan, pushed, errors, new_ids))
    failed = settled.failed
    counts = whole.counts() | {
        "synced": pages.synced + len(settled.synced),
        "failed": pages.failed + len(failed),
        "scanned": changed.scanned,
        "unchanged": whole.unchanged + changed.unchanged_by_hash,
    }
    samples = (pages.samples + [str(f["error"]) for f in failed[:5]])[:5] + settled.not_created[:5]
    errors_count = pages.failed + len(failed) + len(settled.not_created)
    return _report(job, whole, counts, errors_count, samples, dry_run=False)


def _write_leads(conn: sa.Connection, job: SyncJob, plan: Plan, errors: dict[str, str]) -> dict[str, str]:
    """The plan's lead writes and soft deletes; returns placeholder -> new lead id of the leads created and
    adds to `errors` the lead updates refused. Updates of pairs whose push failed are left out."""
    writes = plan.lead_writes
    new_ids: dict[str, str] = {}
    if len(writes):
        creating = writes["lead_id"].astype(str).str.startswith(NEW_LEAD_PREFIX).to_numpy(dtype=bool)
        creates = list(zip(writes["lead_id"][creating], writes["fields"][creating], strict=True))
        new_ids = records.insert_leads(conn, job.workspace_id, creates)
        updates = [
            (i, f)
            for i, f in zip(writes["lead_id"][~creating], writes["fields"][~creating], strict=True)
            if i not in errors
        ]
        errors.update(records.apply_lead_updates(conn, job.workspace_id, updates))
    records.soft_delete_leads(conn, job.workspace_id, plan.lead_deletes)
    return new_ids


@dataclass
class Settled:
    """The plan's pairs once the writes are known: synced (agreed values to record), failed (into the retry
    index), unsettled (a lead to create that was not created: its contact is read again next run)."""

    synced: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unsettled: int = 0
    not_created: list[str] = field(default_factory=list)  # why a contact was not made a lead (refused)


def settle_pairs(
    agreed: pd.DataFrame, pushed: PushOutcome, errors: dict[str, str], new_ids: dict[str, str]
) -> Settled:
    settled = Settled()
    # Plain lists, not to_dict("records"): a dict per pair of 50,000 cost seconds.
    for key, known, values, sync_hash in zip(
        agreed["lead_id"].astype(str).tolist(),
        agreed["hubspot_id"].tolist(),
        agreed["agreed"].tolist(),
        agreed["sync_hash"].tolist(),
        strict=True,
    ):
        lead_id = new_ids.get(key, None if key.startswith(NEW_LEAD_PREFIX) else key)
        hubspot_id = known if isinstance(known, str) else pushed.hubspot_ids.get(key)
        if lead_id is None:
            settled.unsettled += 1
        elif key in errors or hubspot_id is None:
            error = errors.get(key, "HubSpot did not return the contact's id")
            settled.failed.append({"lead_id": lead_id, "hubspot_id": hubspot_id, "error": error})
        else:
            settled.synced.append(
                {"lead_id": lead_id, "hubspot_id": hubspot_id, "agreed": values, "sync_hash": sync_hash}
            )
    return settled


def _without_erased_pairs(conn: sa.Connection, job: SyncJob, plan: Plan) -> Plan:
    """The plan without the pairs whose email an erasure committed after the plan was made: no lead
    written, no state, no conflict recorded for them (privacy/erasure.py)."""
    agreed = [a if isinstance(a, dict) else {} for a in plan.agreed["agreed"]] if len(plan.agreed) else []
    erased = erased_among(conn, job.workspace_id, [str(a.get(EMAIL) or "") for a in agreed])
    if not erased:
        return plan
    gone = {
        str(lead_id)
        for lead_id, values in zip(plan.agreed["lead_id"], agreed, strict=True)
        if str(values.get(EMAIL) or "") in erased
    }

    def kept(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["lead_id"].astype(str).isin(gone)] if len(frame) else frame

    return replace(
        plan, agreed=kept(plan.agreed), lead_writes=kept(plan.lead_writes), conflicts=kept(plan.conflicts)
    )


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


def settle_refused(settled: Settled, refused: pd.DataFrame) -> None:
    """Pairs the plan left out, their values unstorable (plan.refuse_nul): a lead's pair fails with the
    reason; a contact that would become a lead is not created and is read again next run."""
    for row in refused.to_dict("records"):
        if str(row["lead_id"]).startswith(NEW_LEAD_PREFIX):
            settled.unsettled += 1
            settled.not_created.append(str(row["error"]))
        else:
            settled.failed.append(row)
