"""The sensors that launch activity batches, evaluated against PostgreSQL: new events launch their day's run
within a tick; a workspace starts 90 days back once its contacts exist; pending days are launched newest first
(none twice in a sweep window, none while its run is queued or running); yesterday is closed once after midnight; and an
activity request through the API becomes a run per day whose outcome is written back."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.activities.core.days import day_window, first_connect_since
from hubspot_pipeline.api.sync_requests import get_request, queue_request
from hubspot_pipeline.db.tables import email_events, hubspot_sync_config, hubspot_sync_status, leads
from hubspot_pipeline.defs.activities import sensors
from hubspot_pipeline.defs.activities.jobs import activity_batches_job
from hubspot_pipeline.defs.webhooks.sensors import REQUEST_TAG, sync_request_sensor
from hubspot_pipeline.defs.workspaces import tags

from .conftest import connect

NOW = datetime.now(UTC)
TODAY = NOW.date()


def _settings(resources: dict[str, object]) -> dict[str, object]:
    return {"sync_settings": resources["sync_settings"]}


def _lead_with_contact(engine: sa.Engine, workspace_id: uuid.UUID, contact: bool = True) -> uuid.UUID:
    with engine.begin() as conn:
        lead = conn.execute(
            sa.insert(leads)
            .values(workspace_id=workspace_id, email=f"{uuid.uuid4().hex[:8]}@example.com")
            .returning(leads.c.id)
        ).scalar_one()
        if contact:
            conn.execute(
                sa.insert(hubspot_sync_status).values(
                    workspace_id=workspace_id,
                    entity_type="contact",
                    entity_id=lead,
                    hubspot_id="601",
                    status="synced",
                )
            )
    return lead


def _event(
    engine: sa.Engine, workspace_id: uuid.UUID, lead: uuid.UUID, at: datetime, kind: str = "opened"
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(email_events).values(
                workspace_id=workspace_id, lead_id=lead, event_type=kind, occurred_at=at
            )
        )


def _start_logging(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    """The workspace's activity logging started 90 days back, as the backlog sensor leaves it."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_sync_config).values(
                workspace_id=workspace_id, activities_since=first_connect_since(NOW)
            )
        )


def _since(engine: sa.Engine, workspace_id: uuid.UUID) -> datetime | None:
    with engine.connect() as conn:
        return conn.scalar(
            sa.select(hubspot_sync_config.c.activities_since).where(
                hubspot_sync_config.c.workspace_id == workspace_id
            )
        )


def test_new_events_launch_their_days_run_within_a_tick(resources, engine, workspace_id, slug) -> None:
    connect(engine, workspace_id)
    lead = _lead_with_contact(engine, workspace_id)
    _start_logging(engine, workspace_id)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=_settings(resources))
        start = sensors.email_events_sensor(context)
        assert not start.run_requests and start.cursor  # events recorded before it are the backlog's
        _event(engine, workspace_id, lead, NOW)
        _event(engine, workspace_id, lead, NOW - timedelta(days=2))
        _event(engine, workspace_id, lead, NOW - timedelta(days=400))  # before the workspace's start
        tick = sensors.email_events_sensor(
            dg.build_sensor_context(instance=instance, cursor=start.cursor, resources=_settings(resources))
        )
        mine = sorted(
            (r for r in tick.run_requests if r.partition_key.keys_by_dimension["workspace"] == slug),
            key=lambda r: r.partition_key.keys_by_dimension["day"],
        )
        days = [r.partition_key.keys_by_dimension["day"] for r in mine]
        assert days == [(TODAY - timedelta(days=2)).isoformat(), TODAY.isoformat()]
        assert all(r.run_key.startswith("events-") and slug in r.run_key for r in mine)
        assert (
            mine[0].tags[tags.WORKSPACE_ID] == str(workspace_id)
            and mine[0].tags[tags.SYNC_KIND] == "activities"
        )
        assert mine[0].tags[tags.TRIGGER] == "events"
        again = sensors.email_events_sensor(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources=_settings(resources))
        )
        assert isinstance(again, dg.SkipReason)


def test_a_workspace_starts_ninety_days_back_once_its_contacts_exist(
    resources, engine, workspace_id, slug
) -> None:
    connect(engine, workspace_id)
    waiting = _lead_with_contact(engine, workspace_id, contact=False)
    _event(engine, workspace_id, waiting, NOW)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=_settings(resources))
        before = sensors.activity_backlog_sensor(context)
        assert _since(engine, workspace_id) is None  # no contact yet: nothing could be logged
        assert not [r for r in before.run_requests if slug in r.run_key]

        lead = _lead_with_contact(engine, workspace_id)
        for days_ago in (0, 10, 89, 100):
            _event(engine, workspace_id, lead, NOW - timedelta(days=days_ago))
        tick = sensors.activity_backlog_sensor(
            dg.build_sensor_context(instance=instance, cursor=before.cursor, resources=_settings(resources))
        )
        assert _since(engine, workspace_id) == first_connect_since(NOW)
        # One run for the workspace, over the days from the oldest with events to today (100 days ago is
        # before the start), not a run per day: a single-run backfill of the range.
        [backfill] = [r for r in tick.run_requests if f":{slug}:" in r.run_key]
        first, last = (TODAY - timedelta(days=89)).isoformat(), TODAY.isoformat()
        assert backfill.partition_key is None
        assert backfill.tags["dagster/asset_partition_range_start"] == f"{first}|{slug}"
        assert backfill.tags["dagster/asset_partition_range_end"] == f"{last}|{slug}"
        assert backfill.run_key.endswith(f":{slug}:{first}..{last}")
        # It carries the workspace's tag, which dagster.yaml limits to one run at a time per workspace.
        assert backfill.tags[tags.WORKSPACE_ID] == str(workspace_id)
        assert backfill.tags[tags.TRIGGER] == "backlog" and backfill.tags[tags.SYNC_KIND] == "activities"
        assert backfill.run_config["resources"]["activity_batch_run"]["config"]["event_types"] is None
        # Launched (queued, then running), the backfill's days wait: no later tick asks for any of them.
        instance.add_run(
            dg.DagsterRun(
                job_name=activity_batches_job.name,
                run_id=str(uuid.uuid4()),
                status=dg.DagsterRunStatus.STARTED,
                tags=dict(backfill.tags),
            )
        )
        running = sensors.activity_backlog_sensor(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources=_settings(resources))
        )
        assert not [r for r in running.run_requests if f":{slug}:" in r.run_key]


def test_a_single_pending_day_gets_that_days_run(resources, engine, workspace_id, slug) -> None:
    connect(engine, workspace_id)
    lead = _lead_with_contact(engine, workspace_id)
    _start_logging(engine, workspace_id)
    _event(engine, workspace_id, lead, NOW - timedelta(days=3))
    with dg.instance_for_test() as instance:
        yesterday = (TODAY - timedelta(days=1)).isoformat()
        tick = sensors.activity_backlog_sensor(
            dg.build_sensor_context(
                instance=instance, cursor=json.dumps({"closed": yesterday}), resources=_settings(resources)
            )
        )
        [run] = [r for r in tick.run_requests if f":{slug}:" in r.run_key]
        assert run.partition_key.keys_by_dimension["day"] == (TODAY - timedelta(days=3)).isoformat()
        assert "dagster/asset_partition_range_start" not in run.tags


def test_a_day_whose_run_is_running_waits_and_yesterday_is_closed_once_after_midnight(
    resources, engine, workspace_id, slug
) -> None:
    connect(engine, workspace_id)
    lead = _lead_with_contact(engine, workspace_id)
    _start_logging(engine, workspace_id)
    _event(engine, workspace_id, lead, day_window(TODAY)[0] + timedelta(minutes=1))
    with dg.instance_for_test() as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name=activity_batches_job.name,
                run_id=str(uuid.uuid4()),
                status=dg.DagsterRunStatus.STARTED,
                tags={"dagster/partition": f"{TODAY.isoformat()}|{slug}"},
            )
        )
        two_days_ago = (TODAY - timedelta(days=2)).isoformat()
        tick = sensors.activity_backlog_sensor(
            dg.build_sensor_context(
                instance=instance, cursor=json.dumps({"closed": two_days_ago}), resources=_settings(resources)
            )
        )
        mine = [r for r in tick.run_requests if f":{slug}:" in r.run_key]
        yesterday = (TODAY - timedelta(days=1)).isoformat()
        assert [(r.run_key.split(":")[0], r.partition_key.keys_by_dimension["day"]) for r in mine] == [
            ("close", yesterday)
        ]  # today's pending events wait for the run already going
        assert json.loads(tick.cursor) == {"closed": yesterday}
        later = sensors.activity_backlog_sensor(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources=_settings(resources))
        )
        assert not [r for r in later.run_requests if r.run_key.startswith("close:")]


def test_an_activity_request_runs_each_day_it_covers_and_reports_when_all_are_done(
    resources, engine, workspace_id, slug
) -> None:
    connect(engine, workspace_id)
    lead = _lead_with_contact(engine, workspace_id)
    _event(engine, workspace_id, lead, NOW - timedelta(days=5))
    with engine.begin() as conn:
        ranged = queue_request(
            conn,
            workspace_id,
            kind="activities",
            date_from=TODAY - timedelta(days=1),
            date_to=TODAY,
            event_types=["opened"],
        )
        pending = queue_request(conn, workspace_id, kind="activities")
    with dg.instance_for_test() as instance:
        tick = sync_request_sensor(
            dg.build_sensor_context(
                instance=instance, cursor=str(ranged["seq"] - 1), resources=_settings(resources)
            )
        )
        by_request: dict[str, list[dg.RunRequest]] = {}
        for request in tick.run_requests:
            by_request.setdefault(request.tags[REQUEST_TAG], []).append(request)
        ranged_runs = by_request[str(ranged["id"])]
        assert sorted(r.partition_key.keys_by_dimension["day"] for r in ranged_runs) == [
            (TODAY - timedelta(days=1)).isoformat(),
            TODAY.isoformat(),
        ]
        assert ranged_runs[0].job_name == "activity_batches_job"
        assert ranged_runs[0].run_config["resources"]["activity_batch_run"]["config"]["event_types"] == [
            "opened"
        ]
        # Without a range: every day with events to log (here the one five days ago).
        [pending_run] = by_request[str(pending["id"])]
        assert pending_run.partition_key.keys_by_dimension["day"] == (TODAY - timedelta(days=5)).isoformat()

        for request in ranged_runs:  # the runs finish (recorded as the daemon would leave them)
            instance.add_run(
                dg.DagsterRun(
                    job_name="activity_batches_job",
                    run_id=str(uuid.uuid4()),
                    status=dg.DagsterRunStatus.SUCCESS,
                    tags=dict(request.tags),
                )
            )
        sync_request_sensor(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources=_settings(resources))
        )
    with engine.connect() as conn:
        done = get_request(conn, workspace_id, ranged["id"])
        assert done["status"] == "succeeded" and len(done["result"]["runs"]) == 2
        assert (
            get_request(conn, workspace_id, pending["id"])["status"] == "queued"
        )  # its run never came (yet)
