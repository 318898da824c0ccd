"""Every 15 minutes an incremental sync of each syncing workspace; every night a full resync, which catches
anything a queue or a cursor missed."""

import dagster as dg

from hubspot_pipeline.defs.contacts.jobs import contacts_reconcile_job, contacts_sync_job
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import request_tags
from hubspot_pipeline.sync.store.workspaces import syncing_workspaces


def _requests(
    context: dg.ScheduleEvaluationContext, sync_settings: SyncSettingsResource, *, full: bool
) -> list[dg.RunRequest]:
    with sync_settings.engine().connect() as conn:
        workspaces = syncing_workspaces(conn)
    known = set(context.instance.get_dynamic_partitions(WORKSPACE))
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
    mode = tags.mode_tags(full=full, dry_run=False)
    # Workspaces the partition sensor has not added yet wait for it: a run needs its partition.
    return [
        dg.RunRequest(
            run_key=f"{workspace.slug}:{tick}",
            partition_key=workspace.slug,
            run_config=contacts_run_config(full_resync=full),
            tags=request_tags(workspace, "schedule", mode),
        )
        for workspace in workspaces
        if workspace.slug in known
    ]


@dg.schedule(
    cron_schedule="*/15 * * * *",
    job=contacts_sync_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: an incremental contact sync of every workspace that syncs.",
)
def contacts_sync_schedule(context: dg.ScheduleEvaluationContext, sync_settings: SyncSettingsResource):
    return _requests(context, sync_settings, full=False) or dg.SkipReason("no workspace syncs yet")


@dg.schedule(
    cron_schedule="0 3 * * *",
    job=contacts_reconcile_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 03:00 UTC: a full resync of every workspace that syncs.",
)
def contacts_reconcile_schedule(context: dg.ScheduleEvaluationContext, sync_settings: SyncSettingsResource):
    return _requests(context, sync_settings, full=True) or dg.SkipReason("no workspace syncs yet")


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(schedules=[contacts_sync_schedule, contacts_reconcile_schedule])
