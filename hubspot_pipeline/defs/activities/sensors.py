"""Sensors that keep each workspace's email activity in HubSpot within seconds, and leave no day behind.

- `email_events_sensor` (every 5 s): new email events since its cursor (`seq`) launch a run for each
  (day, workspace) they fall on, so an event is in HubSpot seconds after ColdCopy records it.
- `activity_backlog_sensor` (every minute): starts a newly connected workspace 90 days back once its contact
  sync has made contacts; after midnight, runs the day that ended once more (events recorded late); and
  launches a run for every day that still has events to log: failures to retry, events whose contact now
  exists, anything a crashed run or a slow transaction left behind. Days with a run queued or running wait.

Run keys name the workspace, the day and what the run covers, so a tick evaluated twice launches nothing
twice; and every run is idempotent, so a run too many logs nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from hubspot_pipeline.activities.core.days import (
    FIRST_CONNECT_DAYS,
    FIRST_DAY,
    day_to_close,
    first_connect_since,
    utc_day,
)
from hubspot_pipeline.activities.store.arrivals import last_seq, new_event_days
from hubspot_pipeline.activities.store.settings import has_contacts, logging_workspaces, start_logging_since
from hubspot_pipeline.activities.store.status import pending_days
from hubspot_pipeline.defs.activities.jobs import activity_batches_job
from hubspot_pipeline.defs.activities.partitions import activity_key
from hubspot_pipeline.defs.activities.resources import MODE, activity_run_config
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import active_partition_keys, request_tags
from hubspot_pipeline.sync.store.workspaces import Workspace

EVENTS_PER_TICK = 20_000
RUNS_PER_TICK = 100  # the backlog sensor's bound; the rest follow on later ticks
SWEEP_MINUTES = 10  # a pending day is requested again at most this often


def _run(workspace: Workspace, day: date, key: str, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"{key}:{workspace.slug}:{day.isoformat()}",
        partition_key=activity_key(day.isoformat(), workspace.slug),
        run_config=activity_run_config(),
        tags=request_tags(workspace, trigger, MODE),
    )


def _partitions(
    instance: dg.DagsterInstance, workspaces: list[Workspace]
) -> list[dg.AddDynamicPartitionsRequest]:
    missing = sorted({w.slug for w in workspaces if not instance.has_dynamic_partition(WORKSPACE, w.slug)})
    return [WORKSPACE_PARTITIONS.build_add_request(missing)] if missing else []


@dg.sensor(
    job=activity_batches_job,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Logs new email events to HubSpot within seconds: for each (UTC day, workspace) with events recorded "
        "since its cursor (their seq), launches that day's activity batch. A workspace is included once its "
        "activity logging has started (activity_backlog_sensor starts it after its first contact sync)."
    ),
)
def email_events_sensor(context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource):
    with sync_settings.engine().connect() as conn:
        if not context.cursor:  # events recorded before the sensor existed are the backlog sensor's
            return dg.SensorResult(cursor=str(last_seq(conn)))
        after = int(context.cursor)
        days, up_to = new_event_days(conn, after, EVENTS_PER_TICK)
        workspaces = {w.id: (w, s) for w, s in logging_workspaces(conn)} if days else {}
    if up_to == after:
        return dg.SkipReason(f"no email events after seq {after}")
    today = utc_day(datetime.now(UTC))
    requests, launched = [], []
    for (workspace_id, day), seq in sorted(days.items(), key=lambda item: item[1]):
        found = workspaces.get(workspace_id)
        if found is None or found[1].since is None or not utc_day(found[1].since) <= day <= today:
            continue
        requests.append(_run(found[0], day, f"events-{seq}", "events"))
        launched.append(found[0])
    return dg.SensorResult(
        run_requests=requests,
        cursor=str(up_to),
        dynamic_partitions_requests=_partitions(context.instance, launched),
    )


@dg.sensor(
    job=activity_batches_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Leaves no day behind: starts a newly connected workspace's activity logging 90 days back once its "
        "contact sync has made contacts; after midnight UTC runs the day that ended once more; and launches "
        f"the batch of every day that still has events to log (at most every {SWEEP_MINUTES} minutes per day, "
        "none while that day's run is queued or running): failures to retry, events whose contact now exists, "
        "what a crashed run left behind."
    ),
)
def activity_backlog_sensor(context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource):
    now = datetime.now(UTC)
    today = utc_day(now)
    state = json.loads(context.cursor) if context.cursor else {}
    # The last day closed; a sensor starting now closes from tomorrow on (today is not over).
    closed = date.fromisoformat(state["closed"]) if state.get("closed") else today - timedelta(days=1)
    closing = day_to_close(now, closed)
    bucket = now.replace(minute=now.minute - now.minute % SWEEP_MINUTES, second=0, microsecond=0)
    active = active_partition_keys(context.instance, activity_batches_job.name)  # their days wait
    closes: list[dg.RunRequest] = []
    pending: list[dg.RunRequest] = []
    started: list[str] = []
    launched: list[Workspace] = []
    with sync_settings.engine().begin() as conn:
        for workspace, settings in logging_workspaces(conn):
            since = settings.since
            if since is None:
                if not has_contacts(conn, workspace.id):
                    continue  # the first contact sync has not made contacts yet: nothing could be logged
                since = start_logging_since(conn, workspace.id, first_connect_since(now))
                started.append(workspace.slug)
            launched.append(workspace)
            if closing is not None:
                closes.append(_run(workspace, closing, "close", "close_day"))
            for day in sorted(
                pending_days(conn, workspace.id, sorted(settings.event_types), since), reverse=True
            ):
                key = f"{day.isoformat()}|{workspace.slug}"
                if FIRST_DAY <= day <= today and day != closing and key not in active:
                    # The newest first: what a person looks at.
                    pending.append(_run(workspace, day, f"pending-{bucket:%Y%m%dT%H%M}", "backlog"))
    if started:
        context.log.info(f"activity logging started {FIRST_CONNECT_DAYS} days back for {', '.join(started)}")
    cursor = json.dumps({"closed": (closing or closed).isoformat()})
    requests = closes + pending[: max(0, RUNS_PER_TICK - len(closes))]
    if not requests:
        return dg.SensorResult(cursor=cursor, skip_reason="no day with email events left to log")
    return dg.SensorResult(
        run_requests=requests,
        cursor=cursor,
        dynamic_partitions_requests=_partitions(context.instance, launched),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[email_events_sensor, activity_backlog_sensor])
