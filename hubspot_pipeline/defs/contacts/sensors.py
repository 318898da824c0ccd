"""Sensors of the contact sync: the lead outbox (a run for each workspace whose leads changed, within
seconds), and the workspace partitions kept in step with the connected integrations."""

import dagster as dg

from hubspot_pipeline.defs.contacts.jobs import contacts_run_config, contacts_sync_job
from hubspot_pipeline.defs.contacts.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.contacts.resources import ContactSyncResource
from hubspot_pipeline.sync.workspaces import outbox_changes, syncing_workspaces

OUTBOX_BATCH_ROWS = 10_000  # outbox rows looked at per tick: bounded work, the cursor carries on


@dg.sensor(job=contacts_sync_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def lead_outbox_sensor(context: dg.SensorEvaluationContext, contact_sync: ContactSyncResource):
    """Launches an incremental sync for each syncing workspace with new lead outbox rows. The cursor is the
    last outbox row id looked at; run keys name the workspace and that id, so no change launches twice."""
    after = int(context.cursor or 0)
    with contact_sync.engine().connect() as conn:
        changed, up_to = outbox_changes(conn, after, OUTBOX_BATCH_ROWS)
        syncing = set(syncing_workspaces(conn))
    if up_to == after:
        return dg.SkipReason(f"no lead changes after outbox row {after}")
    known = set(context.instance.get_dynamic_partitions(WORKSPACE_PARTITIONS.name or "workspace"))
    wanted = sorted(w for w in changed if w in syncing)
    new = [w for w in wanted if w not in known]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"outbox:{w}:{changed[w]}", partition_key=w, run_config=contacts_run_config()
            )
            for w in wanted
        ],
        dynamic_partitions_requests=[WORKSPACE_PARTITIONS.build_add_request(new)] if new else [],
        cursor=str(up_to),
    )


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def workspace_partitions_sensor(context: dg.SensorEvaluationContext, contact_sync: ContactSyncResource):
    """Adds a `workspace` partition when a workspace connects HubSpot and removes it when it disconnects."""
    with contact_sync.engine().connect() as conn:
        syncing = set(syncing_workspaces(conn))
    known = set(context.instance.get_dynamic_partitions(WORKSPACE_PARTITIONS.name or "workspace"))
    add, remove = sorted(syncing - known), sorted(known - syncing)
    if not add and not remove:
        return dg.SkipReason(f"{len(known)} workspace partitions, all current")
    requests = []
    if add:
        requests.append(WORKSPACE_PARTITIONS.build_add_request(add))
    if remove:
        requests.append(WORKSPACE_PARTITIONS.build_delete_request(remove))
    return dg.SensorResult(dynamic_partitions_requests=requests)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[lead_outbox_sensor, workspace_partitions_sensor])
