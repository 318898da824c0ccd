"""Workflow triggers through Dagster, against PostgreSQL and the sandbox over HTTP: the scoring's score
changes and ColdCopy's email events reach `engagement_threshold_sensor` by cursor, which launches the
workspace's trigger run; a crossing enrols the contact once, a second tick and a second run do nothing, the
threshold re-arms below it; the run records its latency and itself for monitoring. Crash safety and retries
are tests/workflows/test_engine_sandbox.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    email_events,
    hubspot_workflow_executions,
    leads,
    metric_counters,
    sync_runs,
)
from hubspot_pipeline.defs.workflows.assets import trigger_executions
from hubspot_pipeline.defs.workflows.jobs import workflow_triggers_job
from hubspot_pipeline.defs.workflows.resources import WorkflowTriggerRun
from hubspot_pipeline.defs.workflows.sensors import engagement_threshold_sensor
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.scoring.store.events import append_events, score_changed
from hubspot_pipeline.settings import get_settings
from hubspot_pipeline.workflows.core.model import TriggerDefinition
from hubspot_pipeline.workflows.store import triggers
from tests.activities.builders import sync_contacts
from tests.workflows.receiver import run_receiver

from .conftest import connect

WORKFLOW_ID = 6160


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS")
    get_settings.cache_clear()


@pytest.fixture
def workflow_defs(resources: dict[str, object]) -> dg.Definitions:
    settings = resources["sync_settings"]
    return dg.Definitions(
        assets=[trigger_executions],
        jobs=[workflow_triggers_job],
        sensors=[engagement_threshold_sensor],
        resources={"sync_settings": settings, "workflow_trigger_run": WorkflowTriggerRun(settings=settings)},
    )


def _lead_in_hubspot(engine: sa.Engine, resources: dict, workspace_id: uuid.UUID, email: str) -> uuid.UUID:
    with engine.begin() as conn:
        lead = conn.execute(
            sa.insert(leads)
            .values(workspace_id=workspace_id, email=email, first_name="Grace")
            .returning(leads.c.id)
        ).scalar_one()
    client = resources["sync_settings"].client(workspace_id)
    try:
        sync_contacts(engine, client, workspace_id)
    finally:
        client.close()
    return lead


def _trigger(engine: sa.Engine, workspace_id: uuid.UUID, **definition) -> uuid.UUID:
    with engine.begin() as conn:
        return triggers.create(conn, workspace_id, TriggerDefinition.model_validate(definition)).id


def _tick(instance: dg.DagsterInstance, resources: dict, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"sync_settings": resources["sync_settings"]}
    )
    result = engagement_threshold_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, slug: str) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(WORKSPACE, [slug])
    result = defs.resolve_job_def("workflow_triggers_job").execute_in_process(
        partition_key=slug, instance=instance
    )
    assert result.success
    return result


def _executions(engine: sa.Engine, workspace_id: uuid.UUID) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_workflow_executions)
            .where(hubspot_workflow_executions.c.workspace_id == workspace_id)
            .order_by(hubspot_workflow_executions.c.created_at)
        ).all()


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_a_score_crossing_enrolls_through_the_sensor_once_and_rearms_below_the_threshold(
    workflow_defs, resources, engine, workspace_id, slug, hubspot_sandbox: SandboxHandle
) -> None:
    connect(engine, workspace_id)
    lead = _lead_in_hubspot(engine, resources, workspace_id, f"grace-{uuid.uuid4().hex[:6]}@example.com")
    hubspot_sandbox.admin.add_flow("Hot leads", workflow_id=WORKFLOW_ID)
    _trigger(
        engine,
        workspace_id,
        name="Hot",
        event_type="high_engagement",
        threshold=70,
        actions=[{"type": "enroll", "workflow_id": str(WORKFLOW_ID)}],
    )
    with dg.instance_for_test() as instance:
        start = _tick(instance, resources, None)
        assert not start.run_requests
        with engine.begin() as conn:
            append_events(
                conn, [score_changed(workspace_id, lead, 50, 65), score_changed(workspace_id, lead, 65, 75)]
            )
        tick = _tick(instance, resources, start.cursor)
        [request] = [r for r in tick.run_requests if r.partition_key == slug]
        assert request.run_key.startswith("events-") and request.tags[tags.TRIGGER] == "events"
        assert request.tags[tags.SYNC_KIND] == "workflows"
        # Queued without the workspace-id tag, so as not to wait behind the workspace's sync or activity run...
        assert tags.WORKSPACE_ID not in request.tags
        result = _run(workflow_defs, instance, slug)
        # ...and tagged with it once started, like every run of a workspace.
        assert instance.get_run_by_id(result.run_id).tags[tags.WORKSPACE_ID] == str(workspace_id)
        assert _metadata(result)["success"] == 1
        [execution] = _executions(engine, workspace_id)
        assert execution.status == "success" and execution.event_type == "high_engagement"
        assert execution.response["0:enroll"]["status"] == 204
        assert [e["workflowId"] for e in hubspot_sandbox.admin.enrollments()] == [WORKFLOW_ID]

        # Nothing new: the next tick launches nothing for the workspace, and a run does nothing.
        again = _tick(instance, resources, tick.cursor)
        assert not [r for r in again.run_requests if r.partition_key == slug]
        assert _metadata(_run(workflow_defs, instance, slug))["executions_created"] == 0

        with engine.begin() as conn:  # higher: no crossing; below: re-armed; above again: a second crossing
            append_events(
                conn,
                [
                    score_changed(workspace_id, lead, 75, 90),
                    score_changed(workspace_id, lead, 90, 60),
                    score_changed(workspace_id, lead, 60, 71),
                ],
            )
        _run(workflow_defs, instance, slug)
        assert [e.status for e in _executions(engine, workspace_id)] == ["success", "success"]
    with engine.connect() as conn:
        latency = conn.execute(
            sa.select(sa.func.sum(metric_counters.c.value)).where(
                metric_counters.c.series == "hubspot_pipeline_latency_seconds_count",
                metric_counters.c.labels["path"].astext == "engagement_to_trigger",
            )
        ).scalar_one()
        runs = conn.execute(
            sa.select(sync_runs.c.job, sync_runs.c.outcome, sync_runs.c.records_synced).where(
                sync_runs.c.workspace_id == workspace_id
            )
        ).all()
    assert latency is not None and latency >= 2
    assert ("workflow_triggers_job", "succeeded", 1) in [tuple(r) for r in runs]


def test_an_email_event_sends_its_custom_action_once_through_the_sensor(
    workflow_defs, resources, engine, workspace_id, slug, allow_private
) -> None:
    connect(engine, workspace_id)
    with engine.begin() as conn:
        lead = conn.execute(
            sa.insert(leads)
            .values(workspace_id=workspace_id, email="clicks@example.com")
            .returning(leads.c.id)
        ).scalar_one()
    with run_receiver() as receiver, dg.instance_for_test() as instance:
        _trigger(
            engine,
            workspace_id,
            name="Clicked",
            event_type="email_clicked",
            conditions=[{"field": "event.link_url", "op": "contains", "value": "pricing"}],
            actions=[{"type": "custom_action", "url": receiver.url}],
        )
        start = _tick(instance, resources, None)
        with engine.begin() as conn:
            for url in ("https://x.example.com/pricing", "https://x.example.com/blog"):
                conn.execute(
                    sa.insert(email_events).values(
                        workspace_id=workspace_id,
                        lead_id=lead,
                        event_type="clicked",
                        occurred_at=datetime.now(UTC),
                        link_url=url,
                    )
                )
        tick = _tick(instance, resources, start.cursor)
        assert [r.partition_key for r in tick.run_requests if r.partition_key == slug] == [slug]
        _run(workflow_defs, instance, slug)
        _run(workflow_defs, instance, slug)
    [delivery] = receiver.actions()
    assert delivery.json["event"]["fields"]["link_url"] == "https://x.example.com/pricing"
    assert [e.status for e in _executions(engine, workspace_id)] == ["success"]
    assert (
        json.loads(tick.cursor)["positions"]["email_events"]
        > json.loads(start.cursor)["positions"]["email_events"]
    )


def test_the_due_sweep_skips_a_workspace_whose_trigger_run_is_queued_or_running(
    workflow_defs, resources, engine, workspace_id, slug
) -> None:
    trigger = _trigger(
        engine,
        workspace_id,
        name="Clicked",
        event_type="email_clicked",
        actions=[{"type": "enroll", "workflow_id": str(WORKFLOW_ID)}],
    )
    with engine.begin() as conn:  # an execution waiting for its retry, due now
        conn.execute(
            sa.insert(hubspot_workflow_executions).values(
                workspace_id=workspace_id,
                trigger_id=trigger,
                event_id="e-due",
                event_type="email_clicked",
                event_key=f"email:{uuid.uuid4()}",
                status="pending",
                next_attempt_at=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )
    with dg.instance_for_test() as instance:
        start = _tick(instance, resources, None)
        swept = _tick(instance, resources, start.cursor)
        [request] = [r for r in swept.run_requests if r.partition_key == slug]
        assert request.run_key.startswith("due-") and request.tags[tags.TRIGGER] == "retry"

        # A trigger run of the workspace is queued: the next sweep leaves the workspace to it.
        instance.add_dynamic_partitions(WORKSPACE, [slug])
        queued = instance.create_run_for_job(
            workflow_defs.resolve_job_def("workflow_triggers_job"), tags={"dagster/partition": slug}
        )
        again = json.dumps({**json.loads(swept.cursor), "due_at": 0})  # the next minute
        skipped = _tick(instance, resources, again)
        assert not [r for r in skipped.run_requests if r.partition_key == slug]
        assert json.loads(skipped.cursor)["due_at"] > 0  # swept, not postponed

        instance.report_run_canceled(queued)  # the run is over: the sweep launches again
        assert [r for r in _tick(instance, resources, again).run_requests if r.partition_key == slug]
