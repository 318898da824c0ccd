"""The contact sync of one workspace (partition), one asset per stage.

Run config (the same for `contacts_sync_job`, `contacts_reconcile_job` and a materialization from the UI):

    {"ops": {"contacts__field_mappings": {"config": {"dry_run": false, "full_resync": false}}}}

`dry_run`: compute the plan and report it as metadata, write nothing anywhere. `full_resync`: hash every
lead and list every HubSpot contact (and the archived ones) instead of reading only what changed.
Build it with `jobs.contacts_run_config(dry_run=..., full_resync=...)`. Partition key: str(workspace_id).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dagster as dg

from hubspot_pipeline.defs.contacts.checks import CONSISTENCY_CHECKS, consistency_results
from hubspot_pipeline.defs.contacts.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.contacts.resources import ContactSyncResource
from hubspot_pipeline.sync import engine as sync
from hubspot_pipeline.sync.engine import ChangedContacts, ChangedLeads, PushOutcome, SyncJob
from hubspot_pipeline.sync.plan import Plan

GROUP = "contacts"
KINDS = {"python", "hubspot", "postgres"}


class ContactSyncConfig(dg.Config):
    dry_run: bool = False
    full_resync: bool = False


@dataclass
class SyncSetup:
    """What every later stage of the run works with: the workspace, its mappings and the run's mode."""

    workspace_id: str
    mapping_rows: list[dict[str, Any]]
    dry_run: bool
    full: bool
    run_id: str


@contextmanager
def _job(setup: SyncSetup, contact_sync: ContactSyncResource, *, hubspot: bool = True) -> Iterator[SyncJob]:
    workspace_id = uuid.UUID(setup.workspace_id)
    client = contact_sync.client(workspace_id) if hubspot else None
    try:
        yield sync.prepare(
            contact_sync.engine(),
            client,
            workspace_id,
            full=setup.full,
            run_id=setup.run_id,
            search_lag_seconds=contact_sync.search_lag_seconds,
            mapping_rows=setup.mapping_rows,
        )
    finally:
        if client is not None:
            client.close()


def _calls(job: SyncJob) -> int:
    return job.client.metrics.total_calls() if job.client is not None else 0


@dg.asset(
    key=["contacts", "field_mappings"], partitions_def=WORKSPACE_PARTITIONS, group_name=GROUP, kinds=KINDS
)
def field_mappings(
    context: dg.AssetExecutionContext, config: ContactSyncConfig, contact_sync: ContactSyncResource
) -> dg.Output[SyncSetup]:
    """The workspace's field mappings (or the defaults), checked against its HubSpot contact properties.
    Missing custom properties are created in the `coldcopy_sync` group (not in a dry run). Fails, naming
    each bad mapping and the fix, when a mapping cannot work (wrong type, read-only property, ...)."""
    from hubspot_pipeline.sync.properties import ensure_hubspot_properties

    workspace_id = context.partition_key
    setup = SyncSetup(workspace_id, [], config.dry_run, config.full_resync, context.run.run_id)
    with _job(setup, contact_sync) as job:
        setup.mapping_rows = [m.mapping.__dict__ for m in job.mapping_set.mappings]
        created = [] if config.dry_run else ensure_hubspot_properties(job)
        calls = _calls(job)
    return dg.Output(
        setup,
        metadata={
            "mappings": len(setup.mapping_rows),
            "properties_created": dg.MetadataValue.json(created),
            "dry_run": config.dry_run,
            "full_resync": config.full_resync,
            "api_calls": calls,
        },
    )


@dg.asset(
    key=["contacts", "changed_leads"],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds=KINDS,
    ins={"setup": dg.AssetIn(["contacts", "field_mappings"])},
)
def changed_leads(setup: SyncSetup, contact_sync: ContactSyncResource) -> dg.Output[ChangedLeads]:
    """Leads that may need syncing: the lead outbox since its cursor, the retry index (failed rows, retried
    every run until they succeed or die) and, on a full resync, every lead whose hash differs from the
    agreed one. Deleted leads are listed so their contacts are never pulled back."""
    with _job(setup, contact_sync, hubspot=False) as job:
        changed = sync.read_changed_leads(job)
    return dg.Output(
        changed,
        metadata={
            "dagster/row_count": len(changed.leads),
            "deleted": len(changed.deleted),
            "scanned": changed.scanned,
            "unchanged_by_hash": changed.unchanged_by_hash,
            "outbox_up_to": changed.outbox_up_to or 0,
        },
    )


@dg.asset(
    key=["contacts", "changed_hubspot_contacts"],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds=KINDS,
    ins={
        "setup": dg.AssetIn(["contacts", "field_mappings"]),
        "leads": dg.AssetIn(["contacts", "changed_leads"]),
    },
)
def changed_hubspot_contacts(
    setup: SyncSetup, leads: ChangedLeads, contact_sync: ContactSyncResource
) -> dg.Output[ChangedContacts]:
    """HubSpot contacts changed since the search cursor (compound modified-time/id cursor, index-lag aware),
    those named by the webhook queue, archived and merged ones, and re-reads for failed and unlinked pairs."""
    with _job(setup, contact_sync) as job:
        contacts = sync.read_changed_contacts(job, leads)
        calls = _calls(job)
    return dg.Output(
        contacts,
        metadata={
            "dagster/row_count": len(contacts.records),
            "archived": len(contacts.archived),
            "merged": len(contacts.merges),
            "webhook_events": len(contacts.webhook_ids),
            "api_calls": calls,
        },
    )


def _plan_metadata(plan: Plan) -> dict[str, Any]:
    # Samples name records by id and fields by name: no emails or names (PII) in the UI.
    pushes = [
        {"lead_id": r["lead_id"], "hubspot_id": r["hubspot_id"], "properties": sorted(r["properties"])}
        for r in plan.contact_writes.head(5).to_dict("records")
    ]
    pulls = [
        {"lead_id": r["lead_id"], "fields": sorted(r["fields"])}
        for r in plan.lead_writes.head(5).to_dict("records")
    ]
    conflicts = [
        {k: r[k] for k in ("lead_id", "field", "policy", "winner")}
        for r in plan.conflicts.head(5).to_dict("records")
    ]
    return {
        **plan.counts(),
        "sample_pushes": dg.MetadataValue.json(pushes),
        "sample_pulls": dg.MetadataValue.json(pulls),
        "sample_conflicts": dg.MetadataValue.json(conflicts),
    }


@dg.asset(
    key=["contacts", "sync_plan"],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds=KINDS,
    ins={
        "setup": dg.AssetIn(["contacts", "field_mappings"]),
        "leads": dg.AssetIn(["contacts", "changed_leads"]),
        "contacts": dg.AssetIn(["contacts", "changed_hubspot_contacts"]),
    },
)
def sync_plan(
    setup: SyncSetup, leads: ChangedLeads, contacts: ChangedContacts, contact_sync: ContactSyncResource
) -> dg.Output[Plan]:
    """The hashed 3-way diff: what to push to HubSpot, what to pull into leads, each conflict with both values
    and the policy's decision, and what is unchanged. In a dry run this is the result: nothing is written."""
    with _job(setup, contact_sync, hubspot=False) as job:
        plan = sync.plan_sync(job, leads, contacts)
    return dg.Output(plan, metadata={"dry_run": setup.dry_run, **_plan_metadata(plan)})


@dg.asset(
    key=["contacts", "hubspot_contact_upserts"],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds=KINDS,
    pool="hubspot_api",
    ins={"setup": dg.AssetIn(["contacts", "field_mappings"]), "plan": dg.AssetIn(["contacts", "sync_plan"])},
)
def hubspot_contact_upserts(
    setup: SyncSetup, plan: Plan, contact_sync: ContactSyncResource
) -> dg.Output[PushOutcome]:
    """Contacts written to HubSpot: new ones by batch upsert on email (a rerun after a crash finds them, no
    duplicate), known ones by batch update on their id. Failed rows go to the retry index, with HubSpot's
    message, when the lead updates are recorded."""
    if setup.dry_run:
        return dg.Output(PushOutcome({}, {}), metadata={"dry_run": True, "written": 0, "failed": 0})
    with _job(setup, contact_sync) as job:
        outcome = sync.push_contacts(job, plan)
        calls = _calls(job)
    return dg.Output(
        outcome,
        metadata={
            "written": len(outcome.hubspot_ids),
            "failed": len(outcome.errors),
            "api_calls": calls,
            "sample_errors": dg.MetadataValue.json(sorted(set(outcome.errors.values()))[:5]),
        },
    )


@dg.asset(
    key=["contacts", "lead_updates"],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds=KINDS,
    check_specs=CONSISTENCY_CHECKS,
    ins={
        "setup": dg.AssetIn(["contacts", "field_mappings"]),
        "leads": dg.AssetIn(["contacts", "changed_leads"]),
        "contacts": dg.AssetIn(["contacts", "changed_hubspot_contacts"]),
        "plan": dg.AssetIn(["contacts", "sync_plan"]),
        "pushed": dg.AssetIn(["contacts", "hubspot_contact_upserts"]),
    },
)
def lead_updates(
    setup: SyncSetup,
    leads: ChangedLeads,
    contacts: ChangedContacts,
    plan: Plan,
    pushed: PushOutcome,
    contact_sync: ContactSyncResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Leads updated and created from HubSpot (under the sync's writer setting, so the outbox does not echo
    them), and in the same transaction: pair state (agreed values, hashes, HubSpot ids), the retry index,
    tombstones of deleted/archived/merged pairs, conflicts, and the cursors this run covered."""
    with _job(setup, contact_sync, hubspot=not setup.dry_run) as job:
        if setup.dry_run:
            report = sync.dry_run_report(job, leads, plan)
        else:
            report = sync.record_sync(job, leads, contacts, plan, pushed)
        yield dg.MaterializeResult(
            metadata={
                **report.counts,
                "dry_run": setup.dry_run,
                "errors": report.errors,
                "sample_errors": dg.MetadataValue.json(report.error_samples),
            }
        )
        yield from consistency_results(job)


@dg.asset(
    key=["contacts", "hubspot_companies"],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds=KINDS,
    deps=[dg.AssetKey(["contacts", "lead_updates"])],
    ins={
        "setup": dg.AssetIn(["contacts", "field_mappings"]),
        "leads": dg.AssetIn(["contacts", "changed_leads"]),
        "contacts": dg.AssetIn(["contacts", "changed_hubspot_contacts"]),
        "pushed": dg.AssetIn(["contacts", "hubspot_contact_upserts"]),
        "plan": dg.AssetIn(["contacts", "sync_plan"]),
    },
)
def hubspot_companies(
    setup: SyncSetup,
    leads: ChangedLeads,
    contacts: ChangedContacts,
    pushed: PushOutcome,
    plan: Plan,
    contact_sync: ContactSyncResource,
) -> dg.MaterializeResult:
    """Companies in HubSpot by domain (the lead's website, else its non-free-mail email domain), found by
    search before any is created, named by the leads' company; contacts created this run, or whose website
    or company changed, associated with their company. Push only; nothing in a dry run."""
    from hubspot_pipeline.sync.companies import sync_companies

    if setup.dry_run:
        return dg.MaterializeResult(metadata={"dry_run": True})
    with _job(setup, contact_sync) as job:
        report = sync_companies(job, leads, contacts, plan, pushed)
        calls = _calls(job)
    return dg.MaterializeResult(metadata={**report.__dict__, "api_calls": calls})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            field_mappings,
            changed_leads,
            changed_hubspot_contacts,
            sync_plan,
            hubspot_contact_upserts,
            lead_updates,
            hubspot_companies,
        ]
    )
