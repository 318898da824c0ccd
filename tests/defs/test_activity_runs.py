"""Runs of `activities/activity_batches` for a day x workspace partition, against PostgreSQL and the sandbox
over HTTP, on a workspace connected by OAuth (timeline events need an app's token): a day's run logs that
day's events and no other day's, its metadata holds counts and no personal data, its checks are per partition
(late events, error rate), and running it again logs nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from hubspot_pipeline.activities.core.days import day_window
from hubspot_pipeline.db.tables import hubspot_event_templates, metric_counters, sync_runs
from hubspot_pipeline.defs.activities.assets import activity_batches
from hubspot_pipeline.defs.activities.jobs import activity_batches_job
from hubspot_pipeline.defs.activities.partitions import activity_key
from hubspot_pipeline.defs.activities.resources import ActivityBatchRun
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings
from tests.activities.builders import add_event, add_lead, add_sequence, sync_contacts
from tests.activities.conftest import connect
from tests.activities.hubspot_side import log_rows

TODAY = datetime.now(UTC).date()


@pytest.fixture
def oauth_workspace(
    engine: sa.Engine, hubspot_sandbox: SandboxHandle, workspace_id: uuid.UUID, slug: str
) -> Iterator[tuple[uuid.UUID, str]]:
    previous = os.environ.get("HUBSPOT_API_BASE_URL")
    os.environ["HUBSPOT_API_BASE_URL"] = hubspot_sandbox.base_url
    get_settings.cache_clear()
    with engine.begin() as conn:  # this test's sandbox is a new HubSpot app
        conn.execute(sa.delete(hubspot_event_templates))
    try:
        connect(engine, hubspot_sandbox, workspace_id)
        yield workspace_id, slug
    finally:
        if previous is None:
            os.environ.pop("HUBSPOT_API_BASE_URL", None)
        else:
            os.environ["HUBSPOT_API_BASE_URL"] = previous
        get_settings.cache_clear()


@pytest.fixture
def activity_defs(database_url: str, hubspot_sandbox: SandboxHandle) -> dg.Definitions:
    settings = SyncSettingsResource(database_url=database_url, hubspot_api_base_url=hubspot_sandbox.base_url)
    return dg.Definitions(
        assets=[activity_batches],
        jobs=[activity_batches_job],
        resources={"sync_settings": settings, "activity_batch_run": ActivityBatchRun(settings=settings)},
    )


def _run(
    defs: dg.Definitions, instance: dg.DagsterInstance, day: date, slug: str
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("activity_batches_job").execute_in_process(
        partition_key=activity_key(day.isoformat(), slug), instance=instance, raise_on_error=False
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, tuple[bool, dict]]:
    return {
        e.check_name: (e.passed, {k: v.value for k, v in e.metadata.items()})
        for e in result.get_asset_check_evaluations()
    }


def _activity_figures(engine: sa.Engine) -> dict[str, float]:
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                sa.select(metric_counters.c.series, metric_counters.c.value).where(
                    sa.or_(
                        sa.and_(
                            metric_counters.c.series == "hubspot_pipeline_records_synced",
                            metric_counters.c.labels
                            == {"object_type": "activity", "direction": "to_hubspot"},
                        ),
                        sa.and_(
                            metric_counters.c.series == "hubspot_pipeline_latency_seconds_count",
                            metric_counters.c.labels == {"path": "email_event_to_hubspot"},
                        ),
                    )
                )
            ).all()
        )
    return {
        "records": rows.get("hubspot_pipeline_records_synced", 0.0),
        "latencies": rows.get("hubspot_pipeline_latency_seconds_count", 0.0),
    }


def _client(engine: sa.Engine, workspace_id: uuid.UUID, sandbox: SandboxHandle):
    from hubspot_pipeline.sync.connection import workspace_client

    return workspace_client(engine, workspace_id, base_url=sandbox.base_url)


def test_a_days_run_logs_that_days_events_tags_itself_and_logs_nothing_the_second_time(
    engine, activity_defs, oauth_workspace, hubspot_sandbox
):
    workspace_id, slug = oauth_workspace
    start = day_window(TODAY)[0]
    today = add_sequence(engine, workspace_id, "today@example.com", start + timedelta(minutes=1))
    earlier = add_sequence(
        engine, workspace_id, "earlier@example.com", start - timedelta(days=3), kinds=("sent", "opened")
    )
    with _client(engine, workspace_id, hubspot_sandbox) as client:
        sync_contacts(engine, client, workspace_id)
    before = _activity_figures(engine)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        first = _run(activity_defs, instance, TODAY, slug)
        assert first.success
        # Monitoring: the run and its six events, with their event -> HubSpot latencies.
        after = _activity_figures(engine)
        assert after["records"] - before["records"] == 6 and after["latencies"] - before["latencies"] == 6
        with engine.connect() as conn:
            recorded = conn.execute(
                sa.select(
                    sync_runs.c.job, sync_runs.c.outcome, sync_runs.c.records_synced, sync_runs.c.api_calls
                ).where(sync_runs.c.run_id == first.run_id)
            ).one()
        assert tuple(recorded[:3]) == ("activity_batches_job", "succeeded", 6) and recorded.api_calls > 0
        metadata = _metadata(first)
        assert metadata["logged"] == 6 and metadata["emails"] == 2 and metadata["timeline_events"] == 4
        assert (
            metadata["logged_opened"] == 1
            and metadata["failed"] == 0
            and metadata["day"] == TODAY.isoformat()
        )
        assert "today@example.com" not in str(metadata) and "Quick question" not in str(metadata)
        assert _checks(first) == {
            "events_logged_within_an_hour": (
                True,
                {"late_events": 0, "late_waiting_for_contact": 0, "oldest_late_event": ""},
            ),
            "activity_error_rate": (True, {"error_rate": 0.0, "failed": 0, "dead": 0, "logged": 6}),
        }
        run_tags = instance.get_run_by_id(first.run_id).tags
        assert run_tags[tags.WORKSPACE_ID] == str(workspace_id) and run_tags[tags.SYNC_KIND] == "activities"
        logged = {str(r.email_event_id) for r in log_rows(engine, workspace_id)}
        assert logged == {str(e) for kind, e in today.events.items() if kind != "delivered"}
        assert not logged & {
            str(e) for e in earlier.events.values()
        }  # another day's events wait for their run

        hubspot_sandbox.admin.reset_counters()
        again = _run(activity_defs, instance, TODAY, slug)
        assert again.success and _metadata(again)["logged"] == 0
        assert hubspot_sandbox.admin.counters()["total"] == 0


def test_checks_warn_of_late_events_and_errors_on_their_own_partition(
    engine, activity_defs, oauth_workspace, hubspot_sandbox
):
    workspace_id, slug = oauth_workspace
    day = TODAY - timedelta(days=2)
    at = day_window(day)[0] + timedelta(hours=9)
    good = add_sequence(engine, workspace_id, "good@example.com", at, kinds=("sent",))
    add_event(engine, workspace_id, good.lead_id, "clicked", at, url="javascript:alert(1)")
    with _client(engine, workspace_id, hubspot_sandbox) as client:
        sync_contacts(engine, client, workspace_id)
    stranger = add_lead(engine, workspace_id, "not-yet@example.com")  # no contact yet: its event waits
    add_event(engine, workspace_id, stranger, "opened", at)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        result = _run(activity_defs, instance, day, slug)
        assert result.success
        checks = _checks(result)
        late_ok, late = checks["events_logged_within_an_hour"]
        assert late_ok is False and late["late_waiting_for_contact"] == 1 and late["late_events"] == 1
        rate_ok, rate = checks["activity_error_rate"]
        assert rate_ok is False and rate["failed"] == 1 and rate["logged"] == 1 and rate["error_rate"] == 0.5
        evaluations = list(result.get_asset_check_evaluations())
        assert {e.partition for e in evaluations} == {str(activity_key(day.isoformat(), slug))}
        assert {e.severity for e in evaluations} == {dg.AssetCheckSeverity.WARN}
        # Another day of the same workspace has its own results.
        quiet = _run(activity_defs, instance, TODAY, slug)
        assert all(passed for passed, _ in _checks(quiet).values())


def test_a_key_with_an_unknown_workspace_or_event_type_is_refused_with_what_to_do(engine, activity_defs):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", ["nobody-has-this"])
        result = _run(activity_defs, instance, TODAY, "nobody-has-this")
        assert not result.success
        failure = " ".join(str(e.event_specific_data) for e in result.all_events if e.is_failure)
        assert "no workspace has the slug 'nobody-has-this'" in failure


def test_the_backlog_sensors_backfill_materializes_the_ninety_days_and_logs_each_event_once(
    engine, activity_defs, oauth_workspace, hubspot_sandbox, resources
):
    # A first connect: the backlog sensor asks for one run of the workspace over its 90 days (not 90 runs),
    # and that run, as the daemon would launch it (its tags and config), materializes every day of the range
    # and logs each event of those days once; events before the start stay out; run again, it logs nothing.
    from hubspot_pipeline.activities.core.days import first_connect_since
    from hubspot_pipeline.defs.activities import sensors

    workspace_id, slug = oauth_workspace
    now = datetime.now(UTC)
    start = day_window(TODAY)[0]
    sequences = [
        add_sequence(
            engine, workspace_id, f"lead{n}@example.com", start - timedelta(days=n, hours=-9), kinds=kinds
        )
        for n, kinds in ((89, ("sent", "opened")), (45, ("sent", "clicked", "replied")), (10, ("sent",)))
    ]
    before_start = add_sequence(
        engine, workspace_id, "old@example.com", start - timedelta(days=95), kinds=("sent",)
    )
    with _client(engine, workspace_id, hubspot_sandbox) as client:
        sync_contacts(engine, client, workspace_id)
    with dg.instance_for_test() as instance:
        tick = sensors.activity_backlog_sensor(
            dg.build_sensor_context(
                instance=instance, resources={"sync_settings": resources["sync_settings"]}
            )
        )
        [request] = [r for r in tick.run_requests if f":{slug}:" in (r.run_key or "")]
        for added in tick.dynamic_partitions_requests:
            instance.add_dynamic_partitions(added.partitions_def_name, list(added.partition_keys or []))
        job = activity_defs.resolve_job_def("activity_batches_job")
        hubspot_sandbox.admin.reset_counters()
        result = job.execute_in_process(
            run_config=request.run_config, tags=request.tags, instance=instance, raise_on_error=False
        )
        assert result.success
        days = {e.partition for e in result.get_asset_materialization_events() if e.partition is not None}
        first_day = first_connect_since(now).date()
        expected_days = [first_day + timedelta(days=n) for n in range(90)]
        assert expected_days[0] == TODAY - timedelta(days=89)
        assert days == {str(activity_key(day.isoformat(), slug)) for day in expected_days}
        assert len(result.get_asset_materialization_events()) == 90
        # Every event of the 90 days once (`delivered` is not logged by default), none from before.
        logged = [str(r.email_event_id) for r in log_rows(engine, workspace_id)]
        expected = {str(e) for s in sequences for kind, e in s.events.items() if kind != "delivered"}
        assert sorted(logged) == sorted(expected)
        assert not set(logged) & {str(e) for e in before_start.events.values()}
        run_tags = instance.get_run_by_id(result.run_id).tags
        assert run_tags[tags.WORKSPACE_ID] == str(workspace_id) and run_tags[tags.TRIGGER] == "backlog"

        hubspot_sandbox.admin.reset_counters()
        again = job.execute_in_process(
            run_config=request.run_config, tags=request.tags, instance=instance, raise_on_error=False
        )
        assert again.success and hubspot_sandbox.admin.counters()["total"] == 0
        assert len(log_rows(engine, workspace_id)) == len(expected)
