"""Health of a workspace's contact sync, checked at the end of a run, per workspace partition (on
`contacts/sync_state`): row error rate, rows stuck in the retry index, cursor lag, and a sample of matched
pairs compared on both sides. All WARN: they ask a person to look, they do not stop the sync. Each result
belongs to its workspace's partition, so one workspace's warning is not hidden by another's pass.

The schedule's runs (every 15 minutes), the nightly full resync, the API's runs and runs launched from the
UI check; the runs the webhook and lead outbox sensors launch for each change do not (`jobs.run_selection`),
so the next change's run does not wait for a sample read from HubSpot."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status, lead_changes
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.sync.core.mapping import canonical_contacts
from hubspot_pipeline.sync.engine import SyncJob
from hubspot_pipeline.sync.store import leads as lead_store
from hubspot_pipeline.sync.store import queues

ASSET = dg.AssetKey(["contacts", "sync_state"])
MAX_ERROR_RATE = 0.05
STUCK_AFTER_ATTEMPTS = 3
MAX_CURSOR_LAG_SECONDS = 6 * 3600
SAMPLE_SIZE = 20


def _spec(name: str, description: str) -> dg.AssetCheckSpec:
    with warnings.catch_warnings():
        # Partitioned checks are "preview" in Dagster 1.13; they are what makes a result per workspace.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=ASSET, description=description, partitions_def=WORKSPACE_PARTITIONS
        )


CONSISTENCY_CHECKS = [
    _spec(
        "sync_error_rate",
        f"Under {MAX_ERROR_RATE:.0%} of the workspace's lead/contact pairs are in error (see the retry index).",
    ),
    _spec(
        "stuck_retry_rows",
        f"No pair of the workspace failed {STUCK_AFTER_ATTEMPTS}+ runs in a row or was given up on (dead).",
    ),
    _spec(
        "cursor_lag",
        "The workspace's lead outbox is drained and HubSpot was last read up to date within 6 hours.",
    ),
    _spec(
        "sample_pairs_match",
        f"{SAMPLE_SIZE} synced pairs of the workspace, read from both sides, hold the agreed values.",
    ),
]


def _warn(name: str, passed: bool, **metadata: object) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=ASSET,
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={k: v for k, v in metadata.items()},
    )  # type: ignore[misc]


def consistency_results(job: SyncJob) -> Iterator[dg.AssetCheckResult]:
    s = hubspot_sync_status
    with job.engine.connect() as conn:
        by_status = dict(
            conn.execute(
                sa.select(s.c.status, sa.func.count())
                .where(s.c.workspace_id == job.workspace_id, s.c.entity_type == "contact")
                .group_by(s.c.status)
            ).all()
        )
        stuck = conn.execute(
            sa.select(sa.func.count()).where(
                s.c.workspace_id == job.workspace_id,
                s.c.entity_type == "contact",  # email activity has its own checks
                s.c.status == "error",
                sa.or_(s.c.attempts >= STUCK_AFTER_ATTEMPTS, s.c.dead_at.is_not(None)),
            )
        ).scalar_one()
        outbox_at = int(queues.get_cursor(conn, job.workspace_id, queues.OUTBOX_STREAM) or 0)
        backlog = conn.execute(
            sa.select(sa.func.count()).where(
                lead_changes.c.workspace_id == job.workspace_id, lead_changes.c.id > outbox_at
            )
        ).scalar_one()
        search_age = queues.cursor_age_seconds(conn, job.workspace_id, queues.SEARCH_STREAM)
        sample = conn.execute(
            sa.select(sa.cast(s.c.entity_id, sa.Text), s.c.hubspot_id, s.c.agreed)
            .where(
                s.c.workspace_id == job.workspace_id,
                s.c.entity_type == "contact",
                s.c.status == "synced",
                s.c.hubspot_id.is_not(None),
                sa.not_(s.c.agreed.has_key("_tombstone")),
            )
            .order_by(sa.func.random())
            .limit(SAMPLE_SIZE)
        ).all()
    total = sum(by_status.values())
    errors = by_status.get("error", 0)
    rate = errors / total if total else 0.0
    yield _warn("sync_error_rate", rate <= MAX_ERROR_RATE, error_rate=rate, errors=errors, pairs=total)
    yield _warn("stuck_retry_rows", stuck == 0, stuck=stuck)
    # The search cursor is written at the end of every run that read HubSpot up to date, moved or not.
    yield _warn(
        "cursor_lag",
        backlog == 0 and search_age is not None and search_age <= MAX_CURSOR_LAG_SECONDS,
        outbox_backlog=backlog,
        search_cursor_age_seconds=round(search_age, 1) if search_age is not None else -1,
    )
    yield _sample_check(job, sample)


def _sample_check(job: SyncJob, sample: list) -> dg.AssetCheckResult:
    if not sample or job.client is None:
        return _warn("sample_pairs_match", True, compared=0)
    lead_ids = [row[0] for row in sample]
    with job.engine.connect() as conn:
        leads = lead_store.read_leads(conn, job.workspace_id, job.mapping_set, ids=lead_ids)
    result = job.client.batch_read("contacts", [row[1] for row in sample], job.mapping_set.hubspot_properties)
    records = pd.DataFrame([{"id": r["id"], **(r.get("properties") or {})} for r in result.results])
    leads_c = leads.canonical if len(leads) else None
    contacts_c = canonical_contacts(records, job.mapping_set) if len(records) else None
    mismatched = []
    for lead_id, hubspot_id, agreed in sample:
        for column in job.mapping_set.columns:
            mapping = job.mapping_set.by_column(column).mapping
            want = str((agreed or {}).get(column, ""))
            lead_ok = (
                not mapping.pushes
                or leads_c is None
                or lead_id not in leads_c.index
                or leads_c.at[lead_id, column] == want
            )
            hub_ok = (
                not mapping.pulls
                or contacts_c is None
                or hubspot_id not in contacts_c.index
                or contacts_c.at[hubspot_id, column] == want
            )
            if not (lead_ok and hub_ok):
                mismatched.append({"lead_id": lead_id, "hubspot_id": hubspot_id, "field": column})
    # A mismatch is normal for a pair edited since the run read it; several suggest a bug or a blind spot.
    return _warn(
        "sample_pairs_match",
        not mismatched,
        compared=len(sample),
        mismatched=len(mismatched),
        sample_mismatches=dg.MetadataValue.json(mismatched[:10]),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions()
