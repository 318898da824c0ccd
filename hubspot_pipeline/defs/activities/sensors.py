"""Sensors that keep each workspace's email activity in HubSpot within seconds, and leave no day behind.

- `email_events_sensor` (every 5 s): new email events since its cursor (`seq`) launch a run for each
  (day, workspace) they fall on, so an event is in HubSpot seconds after ColdCopy records it.
- `activity_backlog_sensor` (every minute): starts a newly connected workspace 90 days back once its contact
  sync has made contacts; after midnight, runs the day that ended once more (events recorded late); and
  catches up on every day that still has events to log (failures to retry, events whose contact now exists,
  anything a crashed run or a slow transaction left behind) with one run per workspace: a day's run for one
  day, otherwise a run over the range of days from the oldest to the newest such day (a single-run backfill:
  it materializes every day of the range). A first connect is one run over its 90 days, not 90 runs. Days with
  a run queued or running wait. Runs carry the workspace's id tag, which `dagster.yaml` limits to one run at a
  time per workspace.

Run keys name the workspace, the day (or days) and what the run covers, so a tick evaluated twice launches
nothing twice (a first connect's tick evaluated again after a crash asks for the pending days' range instead:
a second run of the workspace, which waits for the first and logs nothing twice); and every run is
idempotent, so a run too many logs nothing.
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
from hubspot_pipeline.defs.activities.partitions import activity_key, keys_in_range
from hubspot_pipeline.defs.activities.resources import MODE, activity_run_config
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import active_partition_keys, range_tags, request_tags
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


def _backfill(workspace: Workspace, first: date, last: date, key: str, trigger: str) -> dg.RunRequest:
    """One run over the workspace's days from `first` to `last`: every day of the range is materialized."""
    start, end = (str(activity_key(day.isoformat(), workspace.slug)) for day in (first, last))
    return dg.RunRequest(
        run_key=f"{key}:{workspace.slug}:{first.isoformat()}..{last.isoformat()}",
        run_config=activity_run_config(),
        tags={**request_tags(workspace, trigger, MODE), **range_tags(start, end)},
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
        "contact sync has made contacts; after midnight UTC runs the day that ended once more; and catches up "
        "on every day that still has events to log (failures to retry, events whose contact now exists, what a "
        "crashed run left behind) with one run per workspace: that day's batch, or one run over the range of "
        f"days from the oldest to the newest (a first connect: one run of up to 90 days); at most every "
        f"{SWEEP_MINUTES} minutes, none for a day whose run is queued or running."
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
    # Their days wait (a running backfill's days included).
    active = active_partition_keys(context.instance, activity_batches_job.name, expand_range=keys_in_range)
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
            days = [
                day
                for day in pending_days(conn, workspace.id, sorted(settings.event_types), since)
                if FIRST_DAY <= day <= today
                and day != closing
                and f"{day.isoformat()}|{workspace.slug}" not in active
            ]
            if started and started[-1] == workspace.slug:
                # A first connect: one run over all its days, since the start up to today, so that every day
                # partition of the 90 is materialized (those without events log nothing).
                first = max(utc_day(since), FIRST_DAY)
                pending.append(_backfill(workspace, first, today, f"start-{first.isoformat()}", "backlog"))
            elif days:
                key = f"pending-{bucket:%Y%m%dT%H%M}"
                first, last = min(days), max(days)
                pending.append(
                    _run(workspace, first, key, "backlog")
                    if first == last
                    else _backfill(workspace, first, last, key, "backlog")
                )
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
