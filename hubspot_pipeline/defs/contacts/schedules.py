"""Every 15 minutes an incremental sync of each syncing workspace; every night a full reconcile, which
catches anything a queue or a cursor missed."""

import dagster as dg

from hubspot_pipeline.defs.contacts.jobs import contacts_reconcile_job, contacts_run_config, contacts_sync_job
from hubspot_pipeline.defs.contacts.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.contacts.resources import ContactSyncResource
from hubspot_pipeline.sync.workspaces import syncing_workspaces


def _requests(
    context: dg.ScheduleEvaluationContext, contact_sync: ContactSyncResource, *, full: bool
) -> list:
    with contact_sync.engine().connect() as conn:
        workspaces = syncing_workspaces(conn)
    known = set(context.instance.get_dynamic_partitions(WORKSPACE_PARTITIONS.name or "workspace"))
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
    # Workspaces the partition sensor has not added yet wait for it: a run needs its partition.
    return [
        dg.RunRequest(
            run_key=f"{workspace}:{tick}",
            partition_key=workspace,
            run_config=contacts_run_config(full_resync=full),
        )
        for workspace in workspaces
        if workspace in known
    ]


@dg.schedule(
    cron_schedule="*/15 * * * *", job=contacts_sync_job, default_status=dg.DefaultScheduleStatus.RUNNING
)
def contacts_sync_schedule(context: dg.ScheduleEvaluationContext, contact_sync: ContactSyncResource):
    """Incremental contact sync of every connected, enabled workspace."""
    return _requests(context, contact_sync, full=False) or dg.SkipReason("no workspace syncs yet")


@dg.schedule(
    cron_schedule="0 3 * * *", job=contacts_reconcile_job, default_status=dg.DefaultScheduleStatus.RUNNING
)
def contacts_reconcile_schedule(context: dg.ScheduleEvaluationContext, contact_sync: ContactSyncResource):
    """Nightly full reconcile of every connected, enabled workspace."""
    return _requests(context, contact_sync, full=True) or dg.SkipReason("no workspace syncs yet")


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(schedules=[contacts_sync_schedule, contacts_reconcile_schedule])
