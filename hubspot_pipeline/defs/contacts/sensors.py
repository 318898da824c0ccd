"""`lead_outbox_sensor`: a contact sync run for each workspace whose leads changed, within seconds, unless its
sync is already waiting to start (that run reads the outbox after its cursor when it starts)."""

import dagster as dg

from hubspot_pipeline.defs.contacts.jobs import contacts_sync_job, run_selection, waiting_syncs
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import request_tags
from hubspot_pipeline.sync.store.workspaces import outbox_changes, syncing_workspaces

OUTBOX_BATCH_ROWS = 10_000  # outbox rows looked at per tick: bounded work, the cursor carries on


@dg.sensor(
    job=contacts_sync_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Launches an incremental contact sync for each syncing workspace with new lead outbox rows (leads "
        "created, edited or deleted in ColdCopy). The cursor is the last outbox row looked at; run keys "
        "name the workspace and that row, so no change launches twice; a workspace whose sync is already "
        "waiting to start gets no second run. Its runs skip the sync's consistency checks (the schedule's "
        "runs check every 15 minutes)."
    ),
)
def lead_outbox_sensor(context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource):
    after = int(context.cursor or 0)
    with sync_settings.engine().connect() as conn:
        changed, up_to = outbox_changes(conn, after, OUTBOX_BATCH_ROWS)
        syncing = syncing_workspaces(conn, among=list(changed)) if changed else []
    if up_to == after:
        return dg.SkipReason(f"no lead changes after outbox row {after}")
    known = set(context.instance.get_dynamic_partitions(WORKSPACE))
    new = [w.slug for w in syncing if w.slug not in known]
    waiting = waiting_syncs(context.instance).first  # an edit does not wait in a run without priority
    mode = tags.mode_tags(full=False, dry_run=False)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"outbox:{w.slug}:{changed[w.id]}",
                partition_key=w.slug,
                run_config=contacts_run_config(),
                tags={**request_tags(w, "outbox", mode), **tags.EDIT_PRIORITY},
                **run_selection("outbox"),
            )
            for w in syncing
            if w.slug not in waiting
        ],
        dynamic_partitions_requests=[WORKSPACE_PARTITIONS.build_add_request(new)] if new else [],
        cursor=str(up_to),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[lead_outbox_sensor])
