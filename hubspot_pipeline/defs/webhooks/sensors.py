"""Sensors of the real-time path.

`webhook_queue_sensor` reads the webhook queue after its cursor (the last event id it has looked at), in
batches of at most `MAX_EVENTS_PER_TICK`, and launches one incremental contact sync run per workspace with
events in the batch, unless the workspace already has a sync waiting to start, which will take them
(`jobs.waiting_syncs`). The run's key is built from the cursor range, so a tick that is evaluated twice can
never launch a second run for the same events. The run reads its workspace's pending events (those are never
skipped: it takes every unprocessed one, up to 50,000) and marks them processed when it records its result.

`sync_request_sensor` turns sync requests queued by `POST /sync/contacts` into runs (run key: the request id)
and those queued by `POST /sync/activities` into an activity batch run per day they cover (run key: the
request id and the day), and writes each request's outcome and counts back, where `GET /sync/status` reads
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from hubspot_pipeline.activities.core.days import first_connect_since, requested_days, utc_day
from hubspot_pipeline.activities.store.settings import activity_settings
from hubspot_pipeline.activities.store.status import pending_days
from hubspot_pipeline.defs.activities.jobs import activity_batches_job
from hubspot_pipeline.defs.activities.partitions import activity_key
from hubspot_pipeline.defs.activities.resources import MODE as ACTIVITY_MODE
from hubspot_pipeline.defs.activities.resources import activity_run_config
from hubspot_pipeline.defs.contacts.jobs import JOBS, contacts_sync_job, job_for, run_selection, waiting_syncs
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.webhooks import queue
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import request_tags
from hubspot_pipeline.sync.store.workspaces import Workspace, syncing_workspaces, workspaces_by_id

# Events looked at per tick: a tick is one grouped query over this many rows of the id index (0.13 s at
# 100,000 on 2 busy cores). At 5,000 a tick, 200 workspaces' first syncs echoed events (1,800 a second) faster
# than the sensor read them, and its cursor fell 1.4 million events behind: edits waited for it.
MAX_EVENTS_PER_TICK = 100_000
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
        "evaluated twice never launches twice; a workspace whose sync is already waiting to start gets no "
        "second run (the waiting one takes the events). Its runs skip the sync's consistency checks (the "
        "schedule's runs check every 15 minutes)."
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
    waiting = waiting_syncs(context.instance)

    def taken(group: queue.WorkspaceEvents) -> bool:
        """A waiting run takes the events; someone's edit only one that goes first (an echo run waits its turn)."""
        slug = syncing[group.workspace_id].slug
        return slug in (waiting.first if group.not_automated else waiting.writing)

    mode = tags.mode_tags(full=False, dry_run=False)
    run_requests = [
        dg.RunRequest(
            run_key=f"webhooks:{syncing[group.workspace_id].slug}:{group.after_id}-{group.up_to_id}",
            partition_key=syncing[group.workspace_id].slug,
            run_config=contacts_run_config(),
            tags={
                **request_tags(syncing[group.workspace_id], "webhooks", mode),
                **(tags.EDIT_PRIORITY if group.not_automated else {}),
                EVENTS_TAG: f"{group.after_id}-{group.up_to_id}",
            },
            **run_selection("webhooks"),
        )
        for group in batch.by_workspace
        if group.workspace_id in syncing and not taken(group)
    ]
    left = sum(1 for group in batch.by_workspace if group.workspace_id in syncing and taken(group))
    off = len(batch.by_workspace) - len(syncing)
    context.log.info(
        f"webhook events ({after_id}, {batch.up_to_id}]: {len(run_requests)} runs, {left} workspaces left to "
        f"their waiting sync, {off} with sync off, {batch.unassigned} events of unconnected portals"
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


def _summed(results: list[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Counts of several runs (an activity request's days), asset by asset."""
    total: dict[str, dict[str, float | int]] = {}
    for result in results:
        for asset, numbers in result["counts"].items():
            into = total.setdefault(asset, {})
            for name, value in numbers.items():
                into[name] = into.get(name, 0) + value
    return total


def _outcomes(instance: dg.DagsterInstance, conn: Any, up_to_seq: int) -> int:
    """Write the outcome of launched requests back to `sync_requests`; returns how many changed. A request
    launches one run (contacts) or one per day (activities): it is done when all its runs are."""
    pending = queue.unfinished_sync_requests(conn, up_to_seq, MAX_REQUESTS_PER_TICK)
    if not pending:
        return 0
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={REQUEST_TAG: [str(request["id"]) for request in pending]})
    )
    by_request: dict[str, list[Any]] = {}
    for record in records:
        by_request.setdefault(record.dagster_run.tags[REQUEST_TAG], []).append(record)
    changed = 0
    now = datetime.now(UTC)
    for request in pending:
        found = sorted(by_request.get(str(request["id"]), []), key=lambda r: r.create_timestamp)
        if not found:
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
        runs = [record.dagster_run for record in found]
        finished = all(run.status not in _RUNNING for run in runs)
        status = (
            "launched"
            if not finished
            else ("succeeded" if all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs) else "failed")
        )
        if status == request["status"]:
            continue
        starts = [datetime.fromtimestamp(r.start_time, UTC) for r in found if r.start_time]
        ends = [datetime.fromtimestamp(r.end_time, UTC) for r in found if r.end_time]
        result = None
        if finished:
            results = [_result(instance, run.run_id, run.status) for run in runs]
            result = (
                results[0]
                if len(runs) == 1
                else {
                    "run_status": status,
                    "runs": [run.run_id for run in runs],
                    "counts": _summed(results),
                }
            )
        queue.record_sync_request_outcome(
            conn,
            request["id"],
            status=status,
            run_id=runs[0].run_id,
            launched_at=min(starts) if starts else found[0].create_timestamp,
            finished_at=max(ends) if finished and ends else None,
            result=result,
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


def _activity_runs(conn: Any, request: dict[str, Any], workspace: Workspace) -> list[dg.RunRequest]:
    """An activity request: a run of each day it covers (its range, or every day with events to log)."""
    settings = activity_settings(conn, workspace.id)
    now = datetime.now(UTC)
    types = sorted(settings.event_types & set(request["event_types"] or settings.event_types))
    pending = (
        []
        if request["date_from"]
        else pending_days(conn, workspace.id, types, settings.since or first_connect_since(now))
    )
    days = requested_days(request["date_from"], request["date_to"], pending, utc_day(now))
    return [
        dg.RunRequest(
            run_key=f"sync-request:{request['id']}:{day.isoformat()}",
            job_name=activity_batches_job.name,
            partition_key=activity_key(day.isoformat(), workspace.slug),
            run_config=activity_run_config(request["event_types"]),
            tags={**request_tags(workspace, "api", ACTIVITY_MODE), REQUEST_TAG: str(request["id"])},
        )
        for day in days
    ]


@dg.sensor(
    jobs=[*JOBS, activity_batches_job],
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Turns sync requests made through the API into runs: POST /sync/contacts into a run of the job that "
        "matches (incremental, full resync or dry run), POST /sync/activities into an activity batch of each "
        "day it covers; writes each request's outcome back for GET /sync/status."
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
        run_requests: list[dg.RunRequest] = []
        for request in requests:
            workspace = workspaces.get(request["workspace_id"])
            if workspace is None:
                continue
            if request["kind"] != "activities":
                run_requests.append(_request_run(request, workspace))
                continue
            days = _activity_runs(conn, request, workspace)
            if not days:  # nothing to log: say so now rather than never
                now = datetime.now(UTC)
                queue.record_sync_request_outcome(
                    conn,
                    request["id"],
                    status="succeeded",
                    run_id="",
                    launched_at=now,
                    finished_at=now,
                    result={"run_status": "SUCCESS", "runs": [], "counts": {}, "days": 0},
                )
            run_requests += days
    return dg.SensorResult(
        run_requests=run_requests,
        cursor=str(requests[-1]["seq"]),
        dynamic_partitions_requests=_new_partitions(context.instance, workspaces.values()),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[webhook_queue_sensor, sync_request_sensor])
