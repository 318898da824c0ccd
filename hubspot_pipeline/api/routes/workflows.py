"""The workspace's workflow triggers: GET/POST/PUT/DELETE /workflows (DELETE takes the id in the body or as
/workflows/{id}), GET /workflows/executions (their executions, paged), POST /workflows/test (a trigger against
a lead or a sample event, no side effects) and POST /workflows/process (ColdCopy's events in real time). Every
change is audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from hubspot_pipeline.api import audit, page_cursor
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.workflow_checks import trigger_problems
from hubspot_pipeline.api.workflow_process import ProcessEvent, deadline, due_ids, store_event
from hubspot_pipeline.workflows.core.decide import LeadState, decide, plan_actions
from hubspot_pipeline.workflows.core.events import Event, evaluation_context
from hubspot_pipeline.workflows.core.model import TriggerDefinition
from hubspot_pipeline.workflows.custom_action import workspace_signing_secret
from hubspot_pipeline.workflows.engine import actors_for, evaluate, run_due
from hubspot_pipeline.workflows.store import executions, triggers
from hubspot_pipeline.workflows.store.leads import lead_by_email, lead_facts

router = APIRouter(tags=["workflow triggers"])
COUNT_DAYS = 7


class TriggerCounts(BaseModel):
    pending: int = 0
    success: int = 0
    failed: int = 0
    skipped: int = 0


class SavedTrigger(TriggerDefinition):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    created_at: datetime | None = None
    updated_at: datetime | None = None
    recent_executions: TriggerCounts = Field(
        default_factory=TriggerCounts, description=f"Executions of the last {COUNT_DAYS} days, by status."
    )


class TriggerList(BaseModel):
    triggers: list[SavedTrigger]
    signing_secret: str = Field(
        description="Verifies custom actions: X-ColdCopy-Signature is v1=HMAC-SHA256(this, '<timestamp>.<body>')."
    )


class TriggerUpdate(TriggerDefinition):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID


class TriggerId(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID


class Deleted(BaseModel):
    deleted: uuid.UUID


class SampleEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal[
        "opened", "clicked", "replied", "bounced", "unsubscribed", "score_changed", "intent_decided"
    ]
    fields: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        max_length=30,
        description="event.* fields: old_score, new_score, intent, link_url ...",
    )
    occurred_at: datetime | None = None


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger_id: uuid.UUID | None = Field(None, description="A saved trigger ...")
    trigger: TriggerDefinition | None = Field(None, description="... or an unsaved one.")
    lead_id: uuid.UUID | None = Field(
        None, description="A lead of the workspace (its fields and engagement) ..."
    )
    lead_email: str | None = Field(None, max_length=320, description="... found by email ...")
    lead: dict[str, str | int | float | bool | None] | None = Field(
        None, max_length=30, description="... or sample lead fields."
    )
    event: SampleEvent


class ConditionOutcome(BaseModel):
    field: str
    op: str
    value: Any
    actual: Any
    passed: bool


class TestResult(BaseModel):
    matches: bool = Field(description="True when the trigger would fire (and not be skipped by a cooldown).")
    outcome: Literal["fire", "skip", "no_match"]
    reason: str
    conditions: list[ConditionOutcome]
    actions: list[dict[str, Any]] = Field(description="What it would do, values filled in; nothing is done.")


class Execution(BaseModel):
    id: uuid.UUID
    trigger_id: uuid.UUID | None
    trigger_name: str | None
    event_type: str
    event_key: str
    lead_id: uuid.UUID | None
    hubspot_contact_id: str | None
    status: Literal["pending", "success", "failed", "skipped"]
    error: str | None
    attempts: int
    next_attempt_at: datetime | None
    response: dict[str, Any]
    created_at: datetime | None
    finished_at: datetime | None


class ExecutionPage(BaseModel):
    executions: list[Execution] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page, older; null when this page is the last."
    )


class ProcessResult(BaseModel):
    event_id: uuid.UUID
    stored: bool = Field(description="False when this event id was posted before (nothing stored twice).")
    intent: dict[str, Any] | None = Field(None, description="A reply's intent, confidence and deciding rule.")
    executions: list[Execution]
    queued: int = Field(description="Executions left pending: past the time budget, retrying or waiting.")


def _saved(trigger: triggers.Trigger, counts: dict[str, int] | None = None) -> SavedTrigger:
    return SavedTrigger(
        id=trigger.id,
        created_at=trigger.created_at,
        updated_at=trigger.updated_at,
        recent_executions=TriggerCounts(**(counts or {})),
        **trigger.definition.model_dump(),
    )


def _checked(definition: TriggerDefinition, engine: sa.Engine, caller: CallerDep) -> TriggerDefinition:
    problems = trigger_problems(definition, engine, caller.workspace_id)
    if problems:
        raise ApiError(
            422,
            "invalid_trigger",
            f"Nothing was saved; fix these and send the trigger again: {'; '.join(problems)}",
            problems,
        )
    return definition


def _details(trigger: triggers.Trigger) -> dict[str, Any]:
    d = trigger.definition
    return {
        "name": d.name,
        "event_type": d.event_type,
        "enabled": d.enabled,
        "actions": [a.type for a in d.actions],
        "properties": sorted(d.property_names()),
    }


@router.get(
    "/workflows", response_model=TriggerList, summary="The workspace's triggers, with recent execution counts"
)
def list_triggers(caller: CallerDep, engine: EngineDep) -> TriggerList:
    since = datetime.now(UTC) - timedelta(days=COUNT_DAYS)
    with engine.connect() as conn:
        found = triggers.live(conn, caller.workspace_id)
        counts = triggers.execution_counts(conn, caller.workspace_id, since)
    return TriggerList(
        triggers=[_saved(t, counts.get(t.id)) for t in found],
        signing_secret=workspace_signing_secret(caller.workspace_id),
    )


@router.get(
    "/workflows/executions",
    response_model=ExecutionPage,
    summary="The workspace's trigger executions, newest first, in pages; by trigger and status",
    responses={
        422: {"description": "A cursor this endpoint did not give, or a limit or filter out of range"}
    },
)
def list_executions(
    caller: CallerDep,
    engine: EngineDep,
    trigger_id: Annotated[uuid.UUID | None, Query(description="One trigger's, deleted ones too.")] = None,
    status: Annotated[
        Literal["pending", "success", "failed", "skipped"] | None, Query(description="Only this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many per page.")] = 100,
    cursor: Annotated[
        str | None,
        Query(max_length=page_cursor.MAX_LENGTH, description="next_cursor of the previous page."),
    ] = None,
) -> ExecutionPage:
    before = page_cursor.decode(cursor) if cursor is not None else None
    with engine.connect() as conn:
        rows = executions.newest_first(
            conn,
            caller.workspace_id,
            limit=limit + 1,  # one more: is there a next page?
            trigger_id=trigger_id,
            status=status,
            before=before,
        )
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return ExecutionPage(
        executions=[Execution(**row) for row in page],
        next_cursor=page_cursor.encode(last["created_at"], last["id"]) if last else None,
    )


@router.post(
    "/workflows",
    response_model=SavedTrigger,
    status_code=201,
    summary="Check and save a new trigger",
    responses={422: {"description": "Refused; `details` lists every problem"}},
)
def create_trigger(body: TriggerDefinition, caller: CallerDep, engine: EngineDep) -> SavedTrigger:
    definition = _checked(body, engine, caller)
    with engine.begin() as conn:
        trigger = triggers.create(conn, caller.workspace_id, definition)
        audit.by_caller(conn, caller, "workflows.create", str(trigger.id), _details(trigger))
    return _saved(trigger)


@router.put(
    "/workflows",
    response_model=SavedTrigger,
    summary="Check and replace a trigger (its id in the body)",
    responses={404: {"description": "No such trigger in this workspace"}, 422: {"description": "Refused"}},
)
def update_trigger(body: TriggerUpdate, caller: CallerDep, engine: EngineDep) -> SavedTrigger:
    definition = TriggerDefinition.model_validate(body.model_dump(exclude={"id"}))
    with engine.connect() as conn:
        _existing(conn, caller, body.id)
    definition = _checked(definition, engine, caller)
    with engine.begin() as conn:
        trigger = triggers.update(conn, caller.workspace_id, body.id, definition)
        if trigger is None:
            raise _not_found(body.id)
        audit.by_caller(conn, caller, "workflows.update", str(trigger.id), _details(trigger))
    return _saved(trigger)


def _not_found(trigger_id: uuid.UUID) -> ApiError:
    return ApiError(
        404, "trigger_not_found", f"This workspace has no trigger {trigger_id}; GET /workflows lists them"
    )


def _existing(conn: sa.Connection, caller: CallerDep, trigger_id: uuid.UUID) -> triggers.Trigger:
    """The workspace's live trigger, or the 404 naming it."""
    trigger = triggers.get(conn, caller.workspace_id, trigger_id)
    if trigger is None:
        raise _not_found(trigger_id)
    return trigger


def _delete(trigger_id: uuid.UUID, caller: CallerDep, engine: sa.Engine) -> Deleted:
    with engine.begin() as conn:
        if not triggers.soft_delete(conn, caller.workspace_id, trigger_id):
            raise _not_found(trigger_id)
        audit.by_caller(conn, caller, "workflows.delete", str(trigger_id))
    return Deleted(deleted=trigger_id)


@router.delete(
    "/workflows",
    response_model=Deleted,
    summary="Delete a trigger (its id in the body); its execution history is kept",
    responses={404: {"description": "No such trigger in this workspace"}},
)
def delete_trigger(body: TriggerId, caller: CallerDep, engine: EngineDep) -> Deleted:
    return _delete(body.id, caller, engine)


@router.delete(
    "/workflows/{trigger_id}",
    response_model=Deleted,
    summary="Delete a trigger; its execution history is kept",
    responses={404: {"description": "No such trigger in this workspace"}},
)
def delete_trigger_by_path(trigger_id: uuid.UUID, caller: CallerDep, engine: EngineDep) -> Deleted:
    return _delete(trigger_id, caller, engine)


@router.post(
    "/workflows/test",
    response_model=TestResult,
    summary="Would this trigger fire for this lead and event? Each condition's result and the actions; no side effects",
    responses={404: {"description": "No such trigger or lead in this workspace"}},
)
def test_trigger(body: TestRequest, caller: CallerDep, engine: EngineDep) -> TestResult:
    if (body.trigger_id is None) == (body.trigger is None):
        raise ApiError(
            422, "invalid_request", "Give either trigger_id (a saved trigger) or trigger (an unsaved one)"
        )
    with engine.connect() as conn:
        if body.trigger_id is not None:
            definition = _existing(conn, caller, body.trigger_id).definition
        else:
            assert body.trigger is not None
            definition = body.trigger
        lead_fields: dict[str, Any] = dict(body.lead or {})
        engagement: dict[str, Any] = {}
        lead_id = body.lead_id
        if lead_id is None and body.lead_email:
            lead_id = lead_by_email(conn, caller.workspace_id, body.lead_email)
            if lead_id is None:
                raise ApiError(404, "lead_not_found", "This workspace has no lead with that email")
        if lead_id is not None:
            facts = lead_facts(conn, caller.workspace_id, [lead_id]).get(lead_id)
            if facts is None:
                raise ApiError(404, "lead_not_found", f"This workspace has no lead {lead_id}")
            lead_fields, engagement = facts.fields, facts.engagement
    now = datetime.now(UTC)
    event = Event(
        "engagement" if body.event.kind in ("score_changed", "intent_decided") else "email",
        "test",
        body.event.kind,
        caller.workspace_id,
        lead_id or uuid.UUID(int=0),
        body.event.occurred_at or now,
        {"type": body.event.kind, **body.event.fields},
    )
    context = evaluation_context(lead_fields, engagement, event)
    decision = decide(definition, event, context, LeadState(), now)
    return TestResult(
        matches=decision.outcome == "fire",
        outcome=decision.outcome,
        reason=decision.reason,
        conditions=[ConditionOutcome(**r.__dict__) for r in decision.conditions],
        actions=[a.describe() for a in plan_actions(definition, context)]
        if decision.outcome == "fire"
        else [],
    )


@router.post(
    "/workflows/process",
    response_model=ProcessResult,
    summary="Store one of ColdCopy's email events (once), evaluate the triggers and run their actions now",
    responses={
        404: {"description": "No such lead in this workspace"},
        409: {"description": "Event id reused"},
    },
)
def process_event(body: ProcessEvent, caller: CallerDep, engine: EngineDep) -> ProcessResult:
    with engine.begin() as conn:
        events, stored, intent = store_event(conn, caller.workspace_id, body)
        audit.by_caller(
            conn,
            caller,
            "workflows.process",
            str(body.event_id),
            {
                "event_type": body.event_type,
                "stored": stored,
                **({"intent": intent["intent"]} if intent else {}),
            },
        )
    evaluate(engine, caller.workspace_id, events)
    keys = sorted({e.key for e in events})
    _run_now(engine, caller.workspace_id, keys)
    with engine.connect() as conn:
        found = executions.by_keys(conn, caller.workspace_id, keys)
    listed = [Execution(**e) for e in found]
    return ProcessResult(
        event_id=body.event_id,
        stored=stored,
        intent=intent,
        executions=listed,
        queued=sum(1 for e in listed if e.status == "pending"),
    )


def _run_now(engine: sa.Engine, workspace_id: uuid.UUID, keys: list[str]) -> None:
    """Run the executions of these events that are due, within the time budget; the rest stay pending."""
    from hubspot_pipeline.settings import get_settings

    with engine.connect() as conn:
        due = due_ids(conn, workspace_id, keys)
    if not due:
        return
    actors = actors_for(engine, workspace_id)
    try:
        run_due(
            engine,
            workspace_id,
            actors,
            deadline=deadline(get_settings().workflow_process_budget_seconds),
            ids=due,
        )
    finally:
        actors.close()
        client = actors.opened_client
        if client is not None:
            client.close()
            from hubspot_pipeline.monitoring.runs import record_client_calls

            record_client_calls(engine, client.metrics)
