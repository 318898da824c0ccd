"""The contact sync of one workspace (partition): one asset per stage, all computed by one op,
`contacts_sync`, in one step. Edges are the results a stage reads (`selection.READS`): field_mappings feeds
leads and hubspot_contacts; leads feeds hubspot_contacts (re-reads of failed pairs) and hashed_diffs;
hubspot_contacts feeds hashed_diffs; hashed_diffs feeds pushed_contacts, which feeds sync_state and
hubspot_companies.

Each stage's result is handed to the next in memory, within the run: nothing per run (changed leads, the
plan, emails, names) is written to Dagster's storage, and no stage ever reads another run's result. So a
selection must hold the stages it reads from (`selection.py`), and re-executing a failed run starts again
from the first stage (there is one step). The mode (dry run, full resync), the workspace, its mappings and
its HubSpot client come from the run-scoped resource `contact_sync_run`, built once when the run starts.
"""

import time
from collections.abc import Iterator
from typing import Any

import dagster as dg

from hubspot_pipeline.defs.contacts import metadata, selection
from hubspot_pipeline.defs.contacts.checks import CONSISTENCY_CHECKS, consistency_results
from hubspot_pipeline.defs.contacts.resources import ContactSyncRun
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.sync import engine as sync

GROUP = "contacts"
KINDS = {"python", "hubspot", "postgres"}

DESCRIPTIONS = {
    selection.FIELD_MAPPINGS: (
        "The workspace's field mappings (or the defaults), checked against its HubSpot contact properties. "
        "Missing custom properties are created in the `coldcopy_sync` group (not in a dry run). Fails, naming "
        "each bad mapping and the fix, when a mapping cannot work (wrong type, read-only property, ...)."
    ),
    selection.LEADS: (
        "ColdCopy leads that may need syncing this run (after the people HubSpot erased, `contact."
        "privacyDeletion`, are erased here too): the lead outbox since its cursor, the retry index "
        "(failed rows, retried every run until they succeed or are given up) and, on a full resync, every "
        "lead whose digest differs from the agreed one. Deleted leads are listed so their contacts are never "
        "pulled back."
    ),
    selection.HUBSPOT_CONTACTS: (
        "HubSpot contacts changed since the last run: search by the (modified time, id) cursor, those named "
        "by the webhook queue, archived and merged ones, and re-reads of the leads' failed or unlinked "
        "pairs. A full resync lists every contact, archived ones too."
    ),
    selection.HASHED_DIFFS: (
        "The hashed 3-way diff of leads and contacts against the agreed values: what to push to HubSpot, "
        "what to pull into leads, each conflict with the policy's decision, what is unchanged. In a dry run "
        "this is the result (see its metadata): nothing is written."
    ),
    selection.PUSHED_CONTACTS: (
        "Contacts written to HubSpot: new ones by batch upsert on email (a rerun after a crash finds them, "
        "no duplicate), known ones by batch update on their id. Failed rows go to the retry index with "
        "HubSpot's message. Pairs whose only write was their contact's are recorded page by page as they "
        "are pushed (a rerun after a crash finds them recorded). Not materialized in a dry run."
    ),
    selection.SYNC_STATE: (
        "The agreed state of every lead/contact pair, written in one transaction with what it covers: leads "
        "updated and created from HubSpot (under the sync's writer setting, so the outbox does not echo "
        "them), HubSpot ids, the retry index, tombstones, conflicts and the cursors. Its checks say whether "
        "the workspace's sync is healthy. Not materialized in a dry run."
    ),
    selection.HUBSPOT_COMPANIES: (
        "ColdCopy's companies (table companies, one per domain: the lead's website, else its non-free-mail "
        "email domain) synced both ways with HubSpot companies: made from new domains, pushed, HubSpot edits "
        "pulled, conflicts decided by policy, archives and merges followed; contacts associated with their "
        "lead's company when created or moved. Not materialized in a dry run."
    ),
}


def key(stage: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, stage])


# Leads carry their published engagement (score, last reply's intent, ...) as fields mappings may name: the
# `engagement` code location's `engagement/lead_engagement` feeds them (a change enters the lead outbox).
ENGAGEMENT = dg.AssetKey(["engagement", "lead_engagement"])


def _deps(stage: str) -> list[dg.AssetKey]:
    return [key(upstream) for upstream in selection.READS[stage]] + (
        [ENGAGEMENT] if stage == selection.LEADS else []
    )


SPECS = [
    dg.AssetSpec(
        key(stage),
        deps=_deps(stage),
        description=DESCRIPTIONS[stage],
        group_name=GROUP,
        kinds=KINDS,
        partitions_def=WORKSPACE_PARTITIONS,
        skippable=stage in (selection.PUSHED_CONTACTS, selection.SYNC_STATE, selection.HUBSPOT_COMPANIES),
    )
    for stage in selection.STAGES
]


class _Stages:
    """Times each stage and counts its HubSpot calls, for its metadata."""

    def __init__(self, run: ContactSyncRun) -> None:
        self.run = run
        self.clock = time.perf_counter()
        self.calls = run.client.metrics.total_calls()

    def done(self, stage: str, values: dict[str, Any]) -> dg.MaterializeResult:
        now, calls = time.perf_counter(), self.run.client.metrics.total_calls()
        values = {**values, "seconds": round(now - self.clock, 3), "api_calls": calls - self.calls}
        self.clock, self.calls = now, calls
        return dg.MaterializeResult(asset_key=key(stage), metadata=values)


@dg.multi_asset(
    name="contacts_sync",
    specs=SPECS,
    check_specs=CONSISTENCY_CHECKS,
    partitions_def=WORKSPACE_PARTITIONS,
    can_subset=True,
    pool="hubspot_api",
    description="The contact sync of one workspace: each stage in turn, its result handed to the next in memory.",
)
def contacts_sync(
    context: dg.AssetExecutionContext, contact_sync_run: ContactSyncRun
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    chosen = {asset_key.path[-1] for asset_key in context.selected_asset_keys}
    missing = selection.missing_stages(chosen)
    if missing:
        raise dg.Failure(description=selection.partial_selection_message(missing, GROUP, "contacts_sync_job"))
    run, job = contact_sync_run, contact_sync_run.job
    stages = _Stages(run)
    dry_run = selection.writes_nothing(chosen, run.dry_run)
    if dry_run != run.dry_run:  # the run's tags say what it does
        context.instance.add_run_tags(context.run.run_id, tags.mode_tags(full=job.full, dry_run=True))
    if selection.FIELD_MAPPINGS in chosen:
        from hubspot_pipeline.sync.properties import ensure_hubspot_properties

        created = [] if dry_run else ensure_hubspot_properties(job)
        yield stages.done(
            selection.FIELD_MAPPINGS,
            {
                "mappings": len(job.mapping_set.mappings),
                "properties_created": dg.MetadataValue.json(created),
                "dry_run": dry_run,
                "full_resync": job.full,
            },
        )
    if selection.LEADS in chosen:
        erased = None
        if not dry_run:  # HubSpot's privacyDeletions are erased before the queue is read (privacy/)
            from hubspot_pipeline.privacy.hubspot_deletions import erase_privacy_deletions

            erased = erase_privacy_deletions(job.engine, job.workspace_id)
        leads = sync.read_changed_leads(job)
        yield stages.done(selection.LEADS, metadata.leads_metadata(leads, erased))
    if selection.HUBSPOT_CONTACTS in chosen:
        contacts = sync.read_changed_contacts(job, leads)
        yield stages.done(selection.HUBSPOT_CONTACTS, metadata.contacts_metadata(contacts))
    if selection.HASHED_DIFFS in chosen:
        plan = sync.plan_sync(job, leads, contacts)
        yield stages.done(
            selection.HASHED_DIFFS, {"dry_run": dry_run, **metadata.diffs_metadata(plan, leads)}
        )
    report, companies = None, None
    if selection.PUSHED_CONTACTS in chosen and not dry_run:
        # One call: pages of pushed pairs are recorded while later pages are still being pushed, so
        # pushed_contacts' seconds hold most of the recording and sync_state's what was left after it.
        written = sync.push_and_record(job, leads, contacts, plan)
        pushed, report = written.pushed, written.report
        yield stages.done(selection.PUSHED_CONTACTS, metadata.pushed_metadata(pushed))
        yield stages.done(selection.SYNC_STATE, metadata.state_metadata(report))
        if selection.HUBSPOT_COMPANIES in chosen:
            from hubspot_pipeline.sync.companies import sync_companies

            # A sensor's run is for the changes it names; the schedule's runs search HubSpot's companies.
            poll = tags.trigger_of(context.run.tags) not in tags.CHANGE_TRIGGERS
            companies = sync_companies(job, leads, contacts, plan, pushed, poll_hubspot=poll)
            yield stages.done(selection.HUBSPOT_COMPANIES, dict(companies.__dict__))
    checks = {check_key.name for check_key in context.selected_asset_check_keys}
    # The dry-run job and the runs of the webhook and outbox sensors select none (jobs.run_selection): no
    # sample read from HubSpot for them.
    if checks:
        yield from (result for result in consistency_results(job) if result.check_name in checks)
    run.finished(report, companies)  # recorded for monitoring when the run ends (resources.py)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[contacts_sync])
