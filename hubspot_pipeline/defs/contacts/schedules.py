"""Every 15 minutes an incremental sync of each syncing workspace; every night a full resync, which catches
anything a queue or a cursor missed. A workspace whose run of the same kind is still waiting to start (the
run queue is behind) gets no second one: the waiting run does the same work when it starts."""

import dagster as dg

from hubspot_pipeline.defs.contacts.jobs import contacts_reconcile_job, contacts_sync_job, waiting_syncs
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import request_tags
from hubspot_pipeline.sync.store.workspaces import syncing_workspaces


def _requests(
    context: dg.ScheduleEvaluationContext, sync_settings: SyncSettingsResource, *, full: bool
) -> list[dg.RunRequest] | dg.SkipReason:
    with sync_settings.engine().connect() as conn:
        workspaces = syncing_workspaces(conn)
    if not workspaces:
        return dg.SkipReason("no workspace syncs yet")
    known = set(context.instance.get_dynamic_partitions(WORKSPACE))
    waiting = waiting_syncs(context.instance)
    covered = waiting.full if full else waiting.checking
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
    mode = tags.mode_tags(full=full, dry_run=False)
    # Workspaces the partition sensor has not added yet wait for it: a run needs its partition.
    requests = [
        dg.RunRequest(
            run_key=f"{workspace.slug}:{tick}",
            partition_key=workspace.slug,
            run_config=contacts_run_config(full_resync=full),
            tags=request_tags(workspace, "schedule", mode),
        )
        for workspace in workspaces
        if workspace.slug in known and workspace.slug not in covered
    ]
    return requests or dg.SkipReason(
        f"{len(workspaces)} workspaces sync: each has a run of this kind waiting to start or no partition yet"
    )


@dg.schedule(
    cron_schedule="*/15 * * * *",
    job=contacts_sync_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: an incremental contact sync of every workspace that syncs.",
)
def contacts_sync_schedule(context: dg.ScheduleEvaluationContext, sync_settings: SyncSettingsResource):
    return _requests(context, sync_settings, full=False)


@dg.schedule(
    cron_schedule="0 3 * * *",
    job=contacts_reconcile_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 03:00 UTC: a full resync of every workspace that syncs.",
)
def contacts_reconcile_schedule(context: dg.ScheduleEvaluationContext, sync_settings: SyncSettingsResource):
    return _requests(context, sync_settings, full=True)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(schedules=[contacts_sync_schedule, contacts_reconcile_schedule])
