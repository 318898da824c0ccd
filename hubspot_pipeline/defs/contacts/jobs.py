"""The contact sync jobs, over the `workspace` partitions (a partition is a workspace's slug). The three run
the same assets; their config is the run's mode (`resources.contact_sync_run.config`, shown and editable in
the launchpad). A full resync of chosen workspaces is a backfill of `contacts_reconcile_job` from the UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

from hubspot_pipeline.defs.contacts import selection
from hubspot_pipeline.defs.contacts.resources import FULL_RESYNC, RESOURCE, contacts_run_config
from hubspot_pipeline.defs.workspaces import tags

CONTACT_SYNC = dg.AssetSelection.groups("contacts")
CONTACT_SYNC_ASSETS = tuple(dg.AssetKey(["contacts", stage]) for stage in selection.STAGES)

contacts_sync_job = dg.define_asset_job(
    "contacts_sync_job",
    selection=CONTACT_SYNC,
    description=(
        "Incremental contact/company sync of one workspace: only what changed on either side since the last "
        "run (lead outbox, retry index, search cursor, webhook queue). Sensors launch it within seconds of a "
        "change; a schedule every 15 minutes."
    ),
    config=contacts_run_config(),
)

contacts_reconcile_job = dg.define_asset_job(
    "contacts_reconcile_job",
    selection=CONTACT_SYNC,
    description=f"Full resync of one workspace, nightly or on request. {FULL_RESYNC}",
    config=contacts_run_config(full_resync=True),
)

contacts_dry_run_job = dg.define_asset_job(
    "contacts_dry_run_job",
    # The read stages only: whatever config it is launched with, this job cannot write.
    selection=dg.AssetSelection.assets(*(["contacts", stage] for stage in selection.READ_STAGES)),
    description=(
        "Dry run of one workspace's sync: reads both sides and computes the plan, shown on "
        "contacts/hashed_diffs (pushes, pulls, conflicts, samples by id); it runs only the read stages, so "
        "it writes nothing anywhere. Set full_resync: true for a dry run of the full resync."
    ),
    config=contacts_run_config(dry_run=True),
)


def run_selection(trigger: str) -> dict[str, Any]:
    """What a `contacts_sync_job` run launched by `trigger` executes, as RunRequest arguments: all of it for
    the schedule, the API, a backfill or the UI; every asset but none of the consistency checks for a run
    launched for particular changes (a webhook, a lead outbox row).

    Those runs follow every edit within seconds, and a workspace runs one run at a time, so the checks (four
    queries and a sample read from HubSpot, 0.5-1.4 s) would delay the next edit's run: the schedule's run
    checks the workspace every 15 minutes and the nightly full resync too. A check a run did not select is
    not run, not failed: the UI keeps showing its last result. The assets are named because an empty check
    selection on its own means the whole job, checks included."""
    if trigger not in tags.CHANGE_TRIGGERS:
        return {}
    return {"asset_selection": list(CONTACT_SYNC_ASSETS), "asset_check_keys": []}


JOBS = (contacts_sync_job, contacts_reconcile_job, contacts_dry_run_job)

# A run in one of these has not begun its first stage: Dagster records a run as STARTED before any step runs.
NOT_STARTED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]


@dataclass(frozen=True)
class WaitingSyncs:
    """Workspaces (partition keys) with a contact sync run that is queued or launched but has not started.

    Such a run reads every change pending when its first stage runs: its workspace's whole webhook queue,
    the lead and company outboxes after their cursors, the retry index. A change that arrives while it
    waits is taken by it, so a sensor or schedule asks for no second run: under load every change's run
    would otherwise queue behind the workspace's one running run (dagster.yaml's tag limit) and all but
    the first would start only to find nothing left. Dry runs write nothing and do not count. Someone's edit
    waits only in a run that goes first (`first`): in a waiting echo or schedule run it would wait its turn
    behind every queued full sync."""

    writing: frozenset[str]  # a sync that writes, any trigger: it takes every pending change
    first: frozenset[str]  # one of those with the run queue's priority (an edit's run): an edit waits in it
    checking: frozenset[str]  # one of those that also runs the consistency checks (not a change's run)
    full: frozenset[str]  # a full resync


def _priority(run_tags: dict[str, str]) -> int:
    """The run queue's priority of a run (Dagster reads a missing or unreadable tag as 0)."""
    try:
        return int(run_tags.get(tags.PRIORITY, "0"))
    except ValueError:
        return 0


def waiting_syncs(instance: dg.DagsterInstance, limit: int = 5_000) -> WaitingSyncs:
    """The workspaces whose contact sync is waiting to start (at most `limit` waiting runs per job)."""
    writing: set[str] = set()
    first: set[str] = set()
    checking: set[str] = set()
    full: set[str] = set()
    for job in (contacts_sync_job, contacts_reconcile_job):
        records = instance.get_run_records(
            filters=dg.RunsFilter(job_name=job.name, statuses=NOT_STARTED), limit=limit
        )
        for record in records:
            run = record.dagster_run
            key = run.tags.get("dagster/partition")
            config = (run.run_config or {}).get("resources", {}).get(RESOURCE, {}).get("config", {})
            if not key or config.get("dry_run", False):
                continue
            writing.add(key)
            if _priority(run.tags) > 0:
                first.add(key)
            if run.asset_check_selection is None or run.asset_check_selection:
                checking.add(key)
            if config.get("full_resync", job is contacts_reconcile_job):
                full.add(key)
    return WaitingSyncs(frozenset(writing), frozenset(first), frozenset(checking), frozenset(full))


def job_for(*, dry_run: bool, full_resync: bool) -> str:
    """The job whose name says what a run in this mode does."""
    if dry_run:
        return contacts_dry_run_job.name
    return contacts_reconcile_job.name if full_resync else contacts_sync_job.name


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=list(JOBS))
