"""Sensors of the real-time path.

`webhook_queue_sensor` reads the webhook queue after its cursor (the last event id it has looked at), in
batches of at most `MAX_EVENTS_PER_TICK`, and launches one incremental contact sync run per workspace with
events in the batch. The run's key is built from the cursor range, so a tick that is evaluated twice can never
launch a second run for the same events. The run reads its workspace's pending events (those are never
skipped: it takes every unprocessed one) and marks them processed when it records its result.

`sync_request_sensor` turns sync requests queued by `POST /sync/contacts` into runs (run key: the request id)
and writes each run's outcome and counts back to the request, where `GET /sync/status` reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from hubspot_pipeline.defs.contacts.jobs import JOBS, contacts_sync_job, job_for
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.webhooks import queue
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import request_tags
from hubspot_pipeline.sync.workspaces import Workspace, syncing_workspaces, workspaces_by_id

MAX_EVENTS_PER_TICK = 5_000
MAX_REQUESTS_PER_TICK = 50
ORPHANED_AFTER = timedelta(minutes=15)
TRIGGER_TAG = tags.TRIGGER
EVENTS_TAG = "hubspot_pipeline/webhook_events"  # "<after_id>-<up_to_id>", the id range the run covers
REQUEST_TAG = "hubspot_pipeline/sync_request"
_RUNNING = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}


def _int_cursor(cursor: str | None) -> int:
    return int(cursor) if cursor and cursor.isdigit() else 0


def _new_partitions(
    instance: dg.DagsterInstance, workspaces: Iterable[Workspace]
) -> list[dg.AddDynamicPartitionsRequest]:
    """Add the workspaces a tick launches runs for to the workspace partitions, if they are not there yet."""
    keys = sorted({workspace.slug for workspace in workspaces})
    missing = [key for key in keys if not instance.has_dynamic_partition(WORKSPACE, key)]
    return [WORKSPACE_PARTITIONS.build_add_request(missing)] if missing else []


@dg.sensor(
    job=contacts_sync_job,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Launches an incremental contact sync per workspace for new HubSpot webhook events (contacts "
        "created, edited, merged or deleted in HubSpot). Run keys name the event id range, so a tick "
        "evaluated twice never launches twice."
    ),
)
def webhook_queue_sensor(
    context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource
) -> dg.SensorResult | dg.SkipReason:
    after_id = _int_cursor(context.cursor)
    with sync_settings.engine().begin() as conn:
        batch = queue.next_webhook_batch(conn, after_id, MAX_EVENTS_PER_TICK)
        if batch is None:
            return dg.SkipReason(f"no webhook events after id {after_id}")
        syncing = {
            w.id: w
            for w in syncing_workspaces(conn, among=[group.workspace_id for group in batch.by_workspace])
        }
    mode = tags.mode_tags(full=False, dry_run=False)
    run_requests = [
        dg.RunRequest(
            run_key=f"webhooks:{syncing[group.workspace_id].slug}:{group.after_id}-{group.up_to_id}",
            partition_key=syncing[group.workspace_id].slug,
            run_config=contacts_run_config(),
            tags={
                **request_tags(syncing[group.workspace_id], "webhooks", mode),
                EVENTS_TAG: f"{group.after_id}-{group.up_to_id}",
            },
        )
        for group in batch.by_workspace
        if group.workspace_id in syncing
    ]
    skipped = len(batch.by_workspace) - len(run_requests)
    context.log.info(
        f"webhook events ({after_id}, {batch.up_to_id}]: {len(run_requests)} runs, {skipped} workspaces with sync "
        f"off, {batch.unassigned} events of unconnected portals"
    )
    return dg.SensorResult(
        run_requests=run_requests,
        cursor=str(batch.up_to_id),
        dynamic_partitions_requests=_new_partitions(context.instance, syncing.values()),
    )


def _result(instance: dg.DagsterInstance, run_id: str, status: dg.DagsterRunStatus) -> dict[str, Any]:
    """The run's status and the numeric metadata of what it materialized (pushed, pulled, conflicts, ...)."""
    counts: dict[str, dict[str, float | int]] = {}
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100
    )
    for record in records.records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is None:
            continue
        numbers = {
            name: value.value
            for name, value in materialization.metadata.items()
            if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue) and value.value is not None
        }
        if numbers:
            counts[materialization.asset_key.to_user_string()] = numbers
    return {"run_status": status.value, "counts": counts}


def _outcomes(instance: dg.DagsterInstance, conn: Any, up_to_seq: int) -> int:
    """Write the outcome of launched requests back to `sync_requests`; returns how many changed."""
    pending = queue.unfinished_sync_requests(conn, up_to_seq, MAX_REQUESTS_PER_TICK)
    if not pending:
        return 0
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={REQUEST_TAG: [str(request["id"]) for request in pending]}),
        limit=len(pending) * 2,
    )
    by_request = {record.dagster_run.tags[REQUEST_TAG]: record for record in records}
    changed = 0
    now = datetime.now(UTC)
    for request in pending:
        record = by_request.get(str(request["id"]))
        if record is None:
            if request["status"] == "queued" and now - request["requested_at"] > ORPHANED_AFTER:
                # Handed to Dagster long ago and no run carries its tag: the launch was refused or the
                # run was deleted. Say so instead of leaving the request "queued" for ever.
                queue.record_sync_request_outcome(
                    conn,
                    request["id"],
                    status="failed",
                    run_id="",
                    launched_at=None,
                    finished_at=now,
                    result={"error": "no Dagster run was launched for this request; request the sync again"},
                )
                changed += 1
            continue
        run = record.dagster_run
        finished = run.status not in _RUNNING
        status = (
            "launched"
            if not finished
            else ("succeeded" if run.status == dg.DagsterRunStatus.SUCCESS else "failed")
        )
        if status == request["status"]:
            continue
        queue.record_sync_request_outcome(
            conn,
            request["id"],
            status=status,
            run_id=run.run_id,
            launched_at=datetime.fromtimestamp(record.start_time, UTC)
            if record.start_time
            else record.create_timestamp,
            finished_at=datetime.fromtimestamp(record.end_time, UTC)
            if finished and record.end_time
            else None,
            result=_result(instance, run.run_id, run.status) if finished else None,
        )
        changed += 1
    return changed


def _request_run(request: dict[str, Any], workspace: Workspace) -> dg.RunRequest:
    dry_run, full = bool(request["dry_run"]), bool(request["full_resync"])
    return dg.RunRequest(
        run_key=f"sync-request:{request['id']}",
        job_name=job_for(dry_run=dry_run, full_resync=full),
        partition_key=workspace.slug,
        run_config=contacts_run_config(dry_run=dry_run, full_resync=full),
        tags={
            **request_tags(workspace, "api", tags.mode_tags(full=full, dry_run=dry_run)),
            REQUEST_TAG: str(request["id"]),
        },
    )


@dg.sensor(
    jobs=list(JOBS),
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Turns sync requests made through the API (POST /sync/contacts) into runs of the job that matches "
        "(incremental, full resync or dry run), and writes each run's outcome back for GET /sync/status."
    ),
)
def sync_request_sensor(
    context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource
) -> dg.SensorResult | dg.SkipReason:
    after_seq = _int_cursor(context.cursor)
    with sync_settings.engine().begin() as conn:
        changed = _outcomes(context.instance, conn, after_seq)
        requests = queue.new_sync_requests(conn, after_seq, MAX_REQUESTS_PER_TICK)
        workspaces = workspaces_by_id(conn, {request["workspace_id"] for request in requests})
    if not requests:
        return dg.SkipReason(f"no sync requests after #{after_seq}; {changed} outcomes recorded")
    run_requests = [
        _request_run(request, workspaces[request["workspace_id"]])
        for request in requests
        if request["workspace_id"] in workspaces
    ]
    return dg.SensorResult(
        run_requests=run_requests,
        cursor=str(requests[-1]["seq"]),
        dynamic_partitions_requests=_new_partitions(context.instance, workspaces.values()),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[webhook_queue_sensor, sync_request_sensor])
