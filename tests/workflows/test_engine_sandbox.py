"""The workflow engine against PostgreSQL, the sandbox over HTTP and a local receiver, in separate processes
where a crash is the point: a process killed while its enrolment or custom action is on the wire never
enrols twice and never sends without the same idempotency key; a failing receiver is retried with backoff
and given up with its reason; a refusal fails at once; a duplicate event executes once."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status, hubspot_workflow_executions, leads, workspaces
from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings
from hubspot_pipeline.workflows.core.events import Event
from hubspot_pipeline.workflows.core.model import TriggerDefinition
from hubspot_pipeline.workflows.core.retry import MAX_ATTEMPTS
from hubspot_pipeline.workflows.custom_action import CustomActionSender, workspace_signing_secret
from hubspot_pipeline.workflows.engine import Actors, evaluate, run_due
from hubspot_pipeline.workflows.store import triggers
from tests.polling import wait_until
from tests.workflows.receiver import run_receiver

ENROLL = "POST /automation/v2/workflows/{workflowId}/enrollments/contacts/{email}"
# What a run process does, as its own process so that the test can kill it.
RUN_PROCESS = """
import sys, uuid
from hubspot_pipeline.db.connection import get_engine
from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken
from hubspot_pipeline.workflows.engine import actors_for, run_due
workspace_id = uuid.UUID(sys.argv[1])
engine = get_engine()
actors = actors_for(engine, workspace_id, lambda: HubSpotClient(sys.argv[2], PrivateAppToken(sys.argv[3])))
run_due(engine, workspace_id, actors)
"""


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS")
    get_settings.cache_clear()


def _client(sandbox: SandboxHandle) -> HubSpotClient:
    return HubSpotClient(sandbox.base_url, PrivateAppToken(sandbox.private_app_token))


def _lead(engine: sa.Engine, workspace_id: uuid.UUID, sandbox: SandboxHandle | None = None) -> uuid.UUID:
    email = f"lead-{uuid.uuid4().hex[:8]}@example.com"
    with engine.begin() as conn:
        lead = conn.execute(
            sa.insert(leads).values(workspace_id=workspace_id, email=email).returning(leads.c.id)
        ).scalar_one()
    if sandbox is not None:  # its contact, as the contact sync leaves the pair
        with _client(sandbox) as client:
            contact = client.create("contacts", {"email": email})
        with engine.begin() as conn:
            conn.execute(
                sa.insert(hubspot_sync_status).values(
                    workspace_id=workspace_id,
                    entity_type="contact",
                    entity_id=lead,
                    hubspot_id=contact["id"],
                    status="synced",
                )
            )
    return lead


def _fire(engine: sa.Engine, workspace_id: uuid.UUID, lead: uuid.UUID, actions: list[dict]) -> uuid.UUID:
    definition = TriggerDefinition(name="t", event_type="email_opened", actions=actions)  # type: ignore[arg-type]
    with engine.begin() as conn:
        triggers.create(conn, workspace_id, definition)
    event = Event(
        "email", str(uuid.uuid4()), "opened", workspace_id, lead, datetime.now(UTC), {"type": "opened"}
    )
    [execution_id] = evaluate(engine, workspace_id, [event])
    assert evaluate(engine, workspace_id, [event]) == []  # the same event again: nothing new
    return execution_id


def _actors(engine: sa.Engine, workspace_id: uuid.UUID, sandbox: SandboxHandle | None = None) -> Actors:
    def no_client() -> HubSpotClient:
        raise AssertionError("this test's actions need no HubSpot")

    return Actors(
        (lambda: _client(sandbox)) if sandbox is not None else no_client,
        lambda: CustomActionSender(allow_private=True, timeout=5, sleep=lambda seconds: None),
        workspace_signing_secret(workspace_id),
    )


def _execution(engine: sa.Engine, execution_id: uuid.UUID):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_workflow_executions).where(hubspot_workflow_executions.c.id == execution_id)
        ).one()


def _due_now(engine: sa.Engine, execution_id: uuid.UUID) -> None:
    """The retry falls due (the backoff's wait, passed)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(hubspot_workflow_executions)
            .where(hubspot_workflow_executions.c.id == execution_id)
            .values(next_attempt_at=sa.func.now())
        )


def _claim_runs_out(engine: sa.Engine, execution_id: uuid.UUID) -> None:
    """A killed process's claim expires (CLAIM after it was taken)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(hubspot_workflow_executions)
            .where(hubspot_workflow_executions.c.id == execution_id)
            .values(claimed_until=sa.func.now() - sa.text("interval '1 second'"))
        )


def _start_run(workspace_id: uuid.UUID, sandbox: SandboxHandle) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUN_PROCESS, str(workspace_id), sandbox.base_url, sandbox.private_app_token],
        env=dict(os.environ),
        start_new_session=True,
    )


def _kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


def test_a_run_killed_while_its_custom_action_is_on_the_wire_resends_it_only_with_the_same_key(
    engine, workspace_id, hubspot_sandbox: SandboxHandle, allow_private
) -> None:
    lead = _lead(engine, workspace_id)
    with run_receiver() as receiver:
        receiver.answer = lambda n: (200, 30.0 if n == 0 else 0.0, {})  # the first delivery hangs
        execution_id = _fire(engine, workspace_id, lead, [{"type": "custom_action", "url": receiver.url}])
        process = _start_run(workspace_id, hubspot_sandbox)
        wait_until("the custom action's delivery", lambda: len(receiver.deliveries) == 1, 30, 0.05)
        _kill(process)
        assert _execution(engine, execution_id).status == "pending"
        _claim_runs_out(engine, execution_id)
        report = run_due(engine, workspace_id, _actors(engine, workspace_id))
    assert report.counts["success"] == 1
    keys = [d.headers["Idempotency-Key"] for d in receiver.deliveries]
    assert keys == [f"{execution_id}:0:custom_action"] * 2
    assert all(d.signed_with(workspace_signing_secret(workspace_id)) for d in receiver.deliveries)
    assert _execution(engine, execution_id).status == "success"


def test_a_run_killed_after_asking_hubspot_to_enrol_never_enrols_twice(
    engine, workspace_id, hubspot_sandbox: SandboxHandle
) -> None:
    flow = hubspot_sandbox.admin.add_flow("Nurture", workflow_id=9090)
    lead = _lead(engine, workspace_id, hubspot_sandbox)
    execution_id = _fire(engine, workspace_id, lead, [{"type": "enroll", "workflow_id": "9090"}])
    hubspot_sandbox.admin.reset_counters()
    # The enrolment is held at HubSpot, which is working on it, when the process is killed (on any machine).
    hubspot_sandbox.admin.configure(faults={"hold": [ENROLL]})
    process = _start_run(workspace_id, hubspot_sandbox)
    wait_until("the enrolment held at HubSpot", lambda: hubspot_sandbox.admin.held(ENROLL) == 1, 30, 0.05)
    assert _execution(engine, execution_id).response["0:enroll"]["state"] == "in_flight"
    _kill(process)
    hubspot_sandbox.admin.configure(faults={"hold": []})
    wait_until(
        "HubSpot to finish the enrolment", lambda: len(hubspot_sandbox.admin.enrollments()) == 1, 30, 0.05
    )
    _claim_runs_out(engine, execution_id)
    report = run_due(engine, workspace_id, _actors(engine, workspace_id, hubspot_sandbox))
    assert report.counts["success"] == 1
    execution = _execution(engine, execution_id)
    assert execution.response["0:enroll"] == {"state": "done", "status": 204, "recovered": True}
    assert hubspot_sandbox.admin.calls(ENROLL) == 1  # asked once, found enrolled, not asked again
    assert [e["workflowId"] for e in hubspot_sandbox.admin.enrollments()] == [9090]
    assert flow["name"] == "Nurture"


def test_a_failing_receiver_is_retried_with_backoff_then_given_up_with_its_reason(
    engine, workspace_id, allow_private
) -> None:
    lead = _lead(engine, workspace_id)
    with run_receiver() as receiver:
        receiver.answer = lambda n: (503, 0.0, {})
        execution_id = _fire(engine, workspace_id, lead, [{"type": "custom_action", "url": receiver.url}])
        waits = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            run_due(engine, workspace_id, _actors(engine, workspace_id))
            execution = _execution(engine, execution_id)
            assert execution.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert execution.status == "pending" and "HTTP 503" in execution.error_message
                waits.append((execution.next_attempt_at - datetime.now(UTC)).total_seconds())
                assert (
                    run_due(engine, workspace_id, _actors(engine, workspace_id)).executed == []
                )  # not due yet
                _due_now(engine, execution_id)
    assert execution.status == "failed"
    assert (
        execution.error_message == f"gave up after {MAX_ATTEMPTS} attempt(s): the receiver answered HTTP 503"
    )
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))
    assert {d.headers["Idempotency-Key"] for d in receiver.deliveries} == {f"{execution_id}:0:custom_action"}
    assert len(receiver.deliveries) == MAX_ATTEMPTS * 3  # three tries within each attempt


def test_a_receiver_that_refuses_fails_at_once_naming_the_status(engine, workspace_id, allow_private) -> None:
    lead = _lead(engine, workspace_id)
    with run_receiver() as receiver:
        receiver.answer = lambda n: (400, 0.0, {})
        execution_id = _fire(engine, workspace_id, lead, [{"type": "custom_action", "url": receiver.url}])
        run_due(engine, workspace_id, _actors(engine, workspace_id))
    execution = _execution(engine, execution_id)
    assert (execution.status, execution.error_message) == ("failed", "the receiver answered HTTP 400")
    assert len(receiver.deliveries) == 1


def test_a_deleted_lead_keeps_its_executions_and_a_deleted_workspace_takes_them(
    engine, workspace_id, allow_private
) -> None:
    lead = _lead(engine, workspace_id)
    with run_receiver() as receiver:
        execution_id = _fire(engine, workspace_id, lead, [{"type": "custom_action", "url": receiver.url}])
        run_due(engine, workspace_id, _actors(engine, workspace_id))
    with engine.begin() as conn:
        conn.execute(sa.delete(leads).where(leads.c.id == lead))
    kept = _execution(engine, execution_id)
    assert kept.status == "success" and kept.lead_id is None
    with engine.begin() as conn:
        conn.execute(sa.delete(workspaces).where(workspaces.c.id == workspace_id))
        left = conn.execute(
            sa.select(sa.func.count()).where(hubspot_workflow_executions.c.id == execution_id)
        ).scalar_one()
    assert left == 0
