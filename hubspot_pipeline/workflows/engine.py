"""Evaluate events against a workspace's triggers, and run the executions that are due. POST
/workflows/process and the Dagster job (defs/workflows) both call these two functions.

    created = evaluate(engine, workspace_id, events)                   # executions, once per (trigger, event)
    report = run_due(engine, workspace_id, actors, deadline=...)       # their actions, each at most once

Acting at most once, across crashes (executions.py claims a row; `response` keeps each action's state):
- enrol: the action is marked `in_flight` (committed) before the call; a run that finds it in flight asks
  HubSpot which workflows the contact is in before enrolling again, so a killed run never enrols twice.
- custom action: its idempotency key is the execution's id and the action's label, the same on every attempt
  and every run, so a receiver sees a repeat only with the same key.
- property updates set values, so a repeat changes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline import monitoring
from hubspot_pipeline.hubspot import HubSpotClient, HubSpotError, HubSpotValidationError
from hubspot_pipeline.monitoring.catalogue import ENGAGEMENT_TO_TRIGGER, LATENCY
from hubspot_pipeline.workflows.core.decide import decide, plan_actions
from hubspot_pipeline.workflows.core.events import Event, evaluation_context, trigger_types
from hubspot_pipeline.workflows.core.retry import CONTACT_WAIT_LIMIT, CONTACT_WAIT_STEP, next_attempt
from hubspot_pipeline.workflows.custom_action import CustomActionSender
from hubspot_pipeline.workflows.store import executions, triggers
from hubspot_pipeline.workflows.store.leads import LeadFacts, lead_facts

CLAIM_BATCH = 20


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "source": event.source,
        "id": event.source_id,
        "kind": event.kind,
        "key": event.key,
        "occurred_at": event.occurred_at.isoformat(),
        "fields": dict(event.fields),
    }


def evaluate(
    engine: sa.Engine, workspace_id: uuid.UUID, events: list[Event], *, now: datetime | None = None
) -> list[uuid.UUID]:
    """Decide each (live trigger, event) once: an execution `pending` (or `skipped`, in a cooldown) when it
    fires; the trigger's threshold state for the lead updated either way. Returns the executions created."""
    now = now or datetime.now(UTC)
    events = [e for e in events if e.workspace_id == workspace_id and trigger_types(e)]
    if not events:
        return []
    wanted = set().union(*(trigger_types(e) for e in events))
    with engine.connect() as conn:
        live = [t for t in triggers.live(conn, workspace_id, wanted) if t.definition.enabled]
        facts = lead_facts(conn, workspace_id, {e.lead_id for e in events}) if live else {}
    created: list[uuid.UUID] = []
    for event in events:
        lead = facts.get(event.lead_id)
        if lead is None:
            continue  # deleted, or not this workspace's
        context = evaluation_context(lead.fields, lead.engagement, event)
        for trigger in live:
            if trigger.definition.event_type not in trigger_types(event):
                continue
            with engine.begin() as conn:
                state = executions.lock_state(conn, workspace_id, trigger.id, lead.id)
                if executions.exists(conn, trigger.id, event.key):
                    continue  # decided before (this event seen twice, or by the other path)
                decision = decide(trigger.definition, event, context, state, now)
                if decision.outcome == "no_match":
                    executions.save_state(conn, trigger.id, lead.id, armed=decision.armed, fired_at=None)
                    continue
                skipped = decision.outcome == "skip"
                execution_id = executions.create(
                    conn,
                    workspace_id=workspace_id,
                    trigger_id=trigger.id,
                    event_id=event.source_id,
                    event_type=trigger.definition.event_type,
                    event_key=event.key,
                    lead_id=lead.id,
                    hubspot_contact_id=lead.contact_id,
                    status="skipped" if skipped else "pending",
                    error_message=decision.reason if skipped else None,
                    occurred_at=event.occurred_at,
                    finished_at=now if skipped else None,
                    metadata={
                        "event": _event_json(event),
                        "reason": decision.reason,
                        "actions": [a.describe() for a in plan_actions(trigger.definition, context)],
                    },
                )
                if execution_id is not None:
                    executions.save_state(
                        conn, trigger.id, lead.id, armed=decision.armed, fired_at=None if skipped else now
                    )
                    created.append(execution_id)
    return created


class Actors:
    """What acting needs, built on first use: the workspace's HubSpot client and the custom-action sender."""

    def __init__(
        self,
        client_factory: Callable[[], HubSpotClient],
        sender_factory: Callable[[], CustomActionSender],
        secret: str,
    ) -> None:
        self._client_factory = client_factory
        self._sender_factory = sender_factory
        self.secret = secret
        self._client: HubSpotClient | None = None
        self._sender: CustomActionSender | None = None

    @property
    def client(self) -> HubSpotClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    @property
    def opened_client(self) -> HubSpotClient | None:
        return self._client

    @property
    def sender(self) -> CustomActionSender:
        if self._sender is None:
            self._sender = self._sender_factory()
        return self._sender

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()


@dataclass
class RunReport:
    counts: dict[str, int] = field(
        default_factory=lambda: {"success": 0, "failed": 0, "skipped": 0, "retrying": 0, "waiting": 0}
    )
    executed: list[uuid.UUID] = field(default_factory=list)


class ActionFailed(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def run_due(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    actors: Actors,
    *,
    deadline: float | None = None,
    ids: list[uuid.UUID] | None = None,
) -> RunReport:
    """Act on the workspace's pending executions that are due (or only `ids`), until none is left or the
    monotonic `deadline` passes (what is left stays pending for the next run)."""
    report = RunReport()
    while deadline is None or time.monotonic() < deadline:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            claimed = executions.claim(conn, workspace_id, limit=CLAIM_BATCH, ids=ids, now=now)
        if not claimed:
            break
        for index, execution in enumerate(claimed):
            if deadline is not None and time.monotonic() >= deadline:
                with engine.begin() as conn:
                    for left in claimed[index:]:
                        executions.postpone(conn, left.id, until=now, error="queued: the time budget ran out")
                return report
            outcome = _act(engine, execution, actors)
            report.counts[outcome] += 1
            report.executed.append(execution.id)
    return report


def _act(engine: sa.Engine, execution: executions.Claimed, actors: Actors) -> str:
    now = datetime.now(UTC)
    if not execution.trigger_live:
        with engine.begin() as conn:
            executions.finish(
                conn,
                execution.id,
                "skipped",
                error="the trigger was deleted or disabled before its actions ran",
            )
        return "skipped"
    with engine.connect() as conn:
        lead = (
            lead_facts(conn, execution.workspace_id, [execution.lead_id]).get(execution.lead_id)
            if execution.lead_id
            else None
        )
    if lead is None:
        with engine.begin() as conn:
            executions.finish(
                conn, execution.id, "skipped", error="the lead was deleted before the actions ran"
            )
        return "skipped"
    planned: list[dict[str, Any]] = execution.metadata.get("actions", [])
    needs_contact = any(a["type"] in ("enroll", "update_properties") for a in planned)
    if needs_contact and lead.contact_id is None:
        with engine.begin() as conn:
            if now - execution.created_at > CONTACT_WAIT_LIMIT:
                executions.finish(
                    conn,
                    execution.id,
                    "skipped",
                    error=f"the lead's contact was not in HubSpot within {CONTACT_WAIT_LIMIT}; nothing was done",
                )
                return "skipped"
            executions.postpone(
                conn,
                execution.id,
                until=now + CONTACT_WAIT_STEP,
                error="waiting for the lead's contact in HubSpot (the contact sync creates it)",
            )
        return "waiting"
    try:
        for action in planned:
            previous = execution.response.get(action["label"], {})
            if previous.get("state") == "done":
                continue
            _run_action(engine, execution, action, previous, lead, actors)
    except (ActionFailed, HubSpotError) as error:
        if isinstance(error, HubSpotError):
            message = error.message
            retryable = not isinstance(error, HubSpotValidationError)
        else:
            message, retryable = error.message, error.retryable
        attempts = execution.attempts + 1
        retry_at = next_attempt(attempts, now) if retryable else None
        with engine.begin() as conn:
            if retry_at is not None:
                executions.postpone(conn, execution.id, until=retry_at, error=message, attempts=attempts)
                return "retrying"
            reason = f"gave up after {attempts} attempt(s): {message}" if retryable else message
            executions.finish(
                conn, execution.id, "failed", error=reason, attempts=attempts, contact_id=lead.contact_id
            )
        return "failed"
    figures = monitoring.Figures()
    if execution.occurred_at is not None:
        figures.observe_many(
            LATENCY,
            [max(0.0, (datetime.now(UTC) - execution.occurred_at).total_seconds())],
            path=ENGAGEMENT_TO_TRIGGER,
        )
    with engine.begin() as conn:
        executions.finish(
            conn, execution.id, "success", contact_id=lead.contact_id, attempts=execution.attempts + 1
        )
        monitoring.record(conn, figures)
    return "success"


def _note(engine: sa.Engine, execution_id: uuid.UUID, label: str, state: dict[str, Any]) -> None:
    with engine.begin() as conn:
        executions.note_action(conn, execution_id, label, state)


def _run_action(
    engine: sa.Engine,
    execution: executions.Claimed,
    action: dict[str, Any],
    previous: dict[str, Any],
    lead: LeadFacts,
    actors: Actors,
) -> None:
    label = action["label"]
    if action["type"] == "enroll":
        workflow_id = str(action["workflow_id"])
        assert lead.contact_id is not None
        if previous.get("state") == "in_flight":
            # A run died after asking HubSpot to enrol: was it done? (HubSpot's enrolment has no key.)
            current = actors.client.enrolled_workflows(lead.contact_id)
            if current is not None and int(workflow_id) in current:
                _note(engine, execution.id, label, {"state": "done", "status": 204, "recovered": True})
                return
        _note(engine, execution.id, label, {"state": "in_flight"})
        result = actors.client.enroll_contact(workflow_id, lead.email)
        if not result.enrolled:
            _note(
                engine,
                execution.id,
                label,
                {"state": "failed", "status": result.status, "message": result.message[:300]},
            )
            raise ActionFailed(
                f"HubSpot answered {result.status} to enrolling the contact in workflow {workflow_id} "
                f"({result.message[:200]}): the workflow or the contact does not exist there",
                retryable=True,
            )
        _note(engine, execution.id, label, {"state": "done", "status": result.status})
    elif action["type"] == "update_properties":
        assert lead.contact_id is not None
        actors.client.update("contacts", lead.contact_id, action["properties"])
        _note(
            engine,
            execution.id,
            label,
            {"state": "done", "status": 200, "properties": sorted(action["properties"])},
        )
    elif action["type"] == "custom_action":
        key = f"{execution.id}:{label}"
        _note(engine, execution.id, label, {"state": "in_flight", "idempotency_key": key})
        payload = {
            "idempotency_key": key,
            "workspace_id": str(execution.workspace_id),
            "trigger": {
                "id": str(execution.trigger_id),
                "name": execution.trigger_name,
                "event_type": execution.event_type,
            },
            "event": execution.metadata.get("event", {}),
            "lead": {"id": str(lead.id), "email": lead.email, "hubspot_contact_id": lead.contact_id},
        }
        delivery = actors.sender.send(action["url"], payload, idempotency_key=key, secret=actors.secret)
        state = {
            "state": "done" if delivery.delivered else "failed",
            "idempotency_key": key,
            **delivery.as_json(),
        }
        _note(engine, execution.id, label, state)
        if not delivery.delivered:
            raise ActionFailed(delivery.error or "the receiver refused it", retryable=delivery.retryable)


PAGE = 1_000


@dataclass
class EvaluationReport:
    events: int = 0
    created: int = 0


def evaluate_new_events(engine: sa.Engine, workspace_id: uuid.UUID) -> EvaluationReport:
    """Evaluate every event recorded since the workspace's cursors, page by page; each page's cursor moves
    once its executions exist (evaluating a page again creates nothing twice)."""
    from hubspot_pipeline.workflows.store import cursors
    from hubspot_pipeline.workflows.store.events import READERS

    report = EvaluationReport()
    with engine.begin() as conn:
        positions = cursors.read(conn, workspace_id)
    for source, reader in READERS.items():
        position = positions[source]
        while True:
            with engine.connect() as conn:
                events, last = reader(conn, position, PAGE, workspace_id)
            if last == position:
                break
            report.events += len(events)
            report.created += len(evaluate(engine, workspace_id, events))
            with engine.begin() as conn:
                cursors.advance(conn, workspace_id, source, last)
            position = last
    return report


def actors_for(
    engine: sa.Engine, workspace_id: uuid.UUID, client_factory: Callable[[], HubSpotClient] | None = None
) -> Actors:
    """Actors on the workspace's own connection (or the given client), the settings' custom-action sender
    and the workspace's signing secret."""
    from hubspot_pipeline.workflows.custom_action import sender_from_settings, workspace_signing_secret

    if client_factory is None:
        from hubspot_pipeline.sync.connection import workspace_client

        def client_factory() -> HubSpotClient:
            return workspace_client(engine, workspace_id)

    return Actors(client_factory, sender_from_settings, workspace_signing_secret(workspace_id))
