"""Monitoring of real Dagster runs against PostgreSQL and the sandbox over HTTP: after a sync, GET /metrics
parses with prometheus-client's parser and its API-call and record counters equal what the sandbox counted
and holds for that run; sandbox faults push a workspace's error rate up until its alert fires; a failed run,
recorded by its own teardown and by `run_failures_sensor`, raises run_failed until the job's next success.
Each alert notifies the local receiver once and resolves with one message. `alerts_sensor` runs the same
evaluation from a sensor tick."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hubspot_pipeline.api.app import create_app
from hubspot_pipeline.db.tables import leads, sync_runs
from hubspot_pipeline.defs.contacts import assets, jobs
from hubspot_pipeline.defs.contacts.resources import ContactSyncRun
from hubspot_pipeline.defs.monitoring.resources import MonitoringResource
from hubspot_pipeline.defs.monitoring.sensors import alerts_sensor, run_failures_sensor
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken
from hubspot_pipeline.monitoring.calls import endpoint_family
from hubspot_pipeline.settings import get_settings
from tests.monitoring.alerting import Alerting, alerting, fires_once_then_resolves  # noqa: F401

from .conftest import add_leads, connect

TOKEN = "monitoring-test-token-" + uuid.uuid4().hex


@pytest.fixture
def scrape(engine: sa.Engine) -> Iterator:
    os.environ["METRICS_TOKEN"] = TOKEN
    get_settings.cache_clear()
    client = TestClient(create_app(engine))

    def metrics() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    try:
        yield metrics
    finally:
        os.environ.pop("METRICS_TOKEN", None)
        get_settings.cache_clear()


def _delta(before: dict, after: dict, name: str) -> Counter:
    """Increase of each label set of a counter between two scrapes."""
    changes: Counter = Counter()
    for (sample, labels), value in after.items():
        if sample == name:
            grown = value - before.get((sample, labels), 0.0)
            if grown:
                changes[labels] = grown
    return changes


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, slug: str, job: str = "contacts_sync_job"):
    return defs.resolve_job_def(job).execute_in_process(
        partition_key=slug, instance=instance, raise_on_error=False
    )


def test_after_a_sync_metrics_equal_what_the_sandbox_counted_and_holds(
    contact_defs, engine, workspace_id, slug, hubspot_sandbox, scrape
):
    connect(engine, workspace_id)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(leads),
            [
                {
                    "workspace_id": workspace_id,
                    "email": f"m{i}@acme{i % 2}.example",
                    "website": f"acme{i % 2}.example",
                }
                for i in range(12)
            ],
        )
    with HubSpotClient(
        hubspot_sandbox.base_url, PrivateAppToken(hubspot_sandbox.private_app_token)
    ) as hubspot:
        hubspot.batch_upsert("contacts", [{"email": f"hubonly{i}@example.org"} for i in range(3)])
    hubspot_sandbox.admin.reset_counters()
    before = scrape()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        assert _run(contact_defs, instance, slug).success
    after = scrape()
    sandbox = hubspot_sandbox.admin.counters()
    # Every call the sandbox answered, by endpoint family and status, is in /metrics: no more, no fewer.
    expected: Counter = Counter()
    for endpoint, by_status in sandbox["byEndpoint"].items():
        for status, count in by_status.items():
            expected[(("family", endpoint_family(endpoint)), ("status", status))] += count
    calls = _delta(before, after, "hubspot_pipeline_hubspot_api_calls_total")
    assert sandbox["total"] > 10 and calls == expected
    # Records: the 12 leads became contacts and the 3 contacts (which got their lead status pushed) leads;
    # the sandbox holds 15 contacts and the run's three companies (the leads' two domains, and example.org of
    # the contacts made leads).
    records = _delta(before, after, "hubspot_pipeline_records_synced_total")
    with HubSpotClient(
        hubspot_sandbox.base_url, PrivateAppToken(hubspot_sandbox.private_app_token)
    ) as hubspot:
        contacts = [r for page, _ in hubspot.list_pages("contacts", ["email"]) for r in page]
        companies = [r for page, _ in hubspot.list_pages("companies", ["domain"]) for r in page]
    assert len(contacts) == 15 and len(companies) == 3
    assert records == {
        (("direction", "to_hubspot"), ("object_type", "contact")): 15,
        (("direction", "from_hubspot"), ("object_type", "contact")): 3,
        (("direction", "to_hubspot"), ("object_type", "company")): 3,
    }
    runs = _delta(before, after, "hubspot_pipeline_sync_runs_total")
    assert runs == {(("job", "contacts_sync_job"), ("outcome", "succeeded")): 1}
    latencies = _delta(before, after, "hubspot_pipeline_latency_seconds_count")
    assert latencies == {(("path", "lead_change_to_hubspot"),): 12}
    with engine.connect() as conn:
        row = conn.execute(sa.select(sync_runs).where(sync_runs.c.workspace_id == workspace_id)).one()
    assert (row.outcome, row.trigger, row.api_calls, row.records_synced) == (
        "succeeded",
        "code",
        sandbox["total"],
        18,
    )


def test_sandbox_faults_push_the_error_rate_up_and_error_rate_fires_once_then_resolves(
    contact_defs,
    engine,
    workspace_id,
    slug,
    hubspot_sandbox,
    alerting: Alerting,  # noqa: F811
):
    connect(engine, workspace_id)
    add_leads(engine, workspace_id, 30)
    alerting.thresholds = dataclasses.replace(alerting.thresholds, error_min_calls=5)
    hubspot_sandbox.admin.configure(seed=7, faults={"error_503": 0.4, "error_502": 0.1})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        assert _run(contact_defs, instance, slug).success  # the client retried its way through
    hubspot_sandbox.admin.configure(faults={"error_503": 0.0, "error_502": 0.0})
    with engine.connect() as conn:
        run = conn.execute(sa.select(sync_runs).where(sync_runs.c.workspace_id == workspace_id)).one()
    assert run.api_errors / run.api_calls >= alerting.thresholds.error_rate
    fires_once_then_resolves(
        alerting,
        [f"error_rate:{workspace_id}"],
        lambda: None,  # the faults stopped; the faulty run leaves the window
        dt.datetime.now(dt.UTC) + alerting.thresholds.window + dt.timedelta(minutes=1),
    )


def _failure_context(instance: dg.DagsterInstance, run_id: str, monitoring: MonitoringResource):
    run = instance.get_run_by_id(run_id)
    [failure] = [
        record.event_log_entry.dagster_event
        for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    ]
    return dg.build_run_status_sensor_context(
        sensor_name="run_failures_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure,
        resources={"monitoring": monitoring},
    ).for_run_failure()


def test_a_failed_run_raises_run_failed_until_the_jobs_next_success(
    contact_defs,
    resources,
    database_url,
    engine,
    workspace_id,
    slug,
    hubspot_sandbox,
    alerting: Alerting,  # noqa: F811
):
    connect(engine, workspace_id)
    add_leads(engine, workspace_id, 3)
    settings = resources["sync_settings"]
    refused = SyncSettingsResource(**{**settings.model_dump(), "private_app_token": "pat-na1-" + "0" * 36})
    failing = dg.Definitions.merge(
        assets.defs(),
        jobs.defs(),
        dg.Definitions(
            resources={"sync_settings": refused, "contact_sync_run": ContactSyncRun(settings=refused)}
        ),
    )
    monitoring = MonitoringResource(database_url=database_url)
    key = f"run_failed:{workspace_id}:contacts_sync_job"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        result = _run(failing, instance, slug)  # HubSpot refuses the token: the run fails
        assert not result.success
        run_failures_sensor(_failure_context(instance, result.run_id, monitoring))
        with engine.connect() as conn:
            row = conn.execute(sa.select(sync_runs).where(sync_runs.c.run_id == result.run_id)).one()
        # Recorded once, by the run's teardown (with its calls); the sensor added what failed, by type.
        assert (row.outcome, row.workspace_id) == ("failed", workspace_id)
        assert row.api_calls >= 1 and row.error.endswith("HubSpotAuthError")
        fires_once_then_resolves(
            alerting, [key], lambda: _run(contact_defs, instance, slug).success or pytest.fail("rerun failed")
        )


def test_alerts_sensor_evaluates_the_rules_and_notifies_from_a_tick(
    database_url,
    engine,
    workspace_id,
    alerting: Alerting,  # noqa: F811
):
    from hubspot_pipeline.db.tables import hubspot_sync_config

    connect(engine, workspace_id)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_sync_config).values(
                workspace_id=workspace_id, connection_status="needs_reconnect"
            )
        )
    os.environ["ALERT_NOTIFY_URLS"] = alerting.url
    get_settings.cache_clear()
    try:
        with dg.instance_for_test() as instance:
            result = alerts_sensor(
                dg.build_sensor_context(
                    instance=instance, resources={"monitoring": MonitoringResource(database_url=database_url)}
                )
            )
    finally:
        os.environ.pop("ALERT_NOTIFY_URLS", None)
        get_settings.cache_clear()
    assert isinstance(result, dg.SkipReason) and "firing" in (result.skip_message or "")
    [message] = alerting.messages(f"auth_failure:{workspace_id}")
    assert "reconnect" in message["message"]
