"""Does this trigger fire for this event? One pure decision, used by POST /workflows/test (which shows all of
it), POST /workflows/process and the Dagster job (which record it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from hubspot_pipeline.workflows.core.conditions import ConditionResult, evaluate
from hubspot_pipeline.workflows.core.events import Event, trigger_types
from hubspot_pipeline.workflows.core.model import (
    CustomAction,
    EnrollAction,
    PropertyUpdateAction,
    TriggerDefinition,
    action_label,
)
from hubspot_pipeline.workflows.core.templates import render
from hubspot_pipeline.workflows.core.threshold import in_cooldown, threshold_step


@dataclass(frozen=True)
class LeadState:
    """What a trigger remembers of a lead: armed for its threshold (None: never seen), when it last fired."""

    armed: bool | None = None
    last_fired_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Literal["fire", "skip", "no_match"]  # skip: it would fire, but the lead is in its cooldown
    reason: str
    conditions: list[ConditionResult] = field(default_factory=list)
    armed: bool | None = None  # the threshold state to keep (high_engagement), None: unchanged


def decide(
    trigger: TriggerDefinition,
    event: Event,
    context: Mapping[str, Mapping[str, Any]],
    state: LeadState,
    now: datetime,
) -> Decision:
    if trigger.event_type not in trigger_types(event):
        return Decision("no_match", f"a {event.kind} event does not fire {trigger.event_type} triggers")
    armed: bool | None = None
    crossed = True
    if trigger.event_type == "high_engagement":
        assert trigger.threshold is not None  # the model requires it
        new = event.fields.get("new_score")
        if new is None:
            return Decision("no_match", "the score change has no new score")
        step = threshold_step(state.armed, event.fields.get("old_score"), float(new), trigger.threshold)
        armed, crossed = step.armed, step.fires
    matched, results = evaluate(trigger.conditions, context)
    if not trigger.enabled:
        return Decision("no_match", "the trigger is disabled", results, armed)
    if not crossed:
        return Decision(
            "no_match",
            f"the score did not cross {trigger.threshold} upwards since it last fired (it re-arms below it)",
            results,
            armed,
        )
    if not matched:
        failed = ", ".join(f"{r.field} {r.op}" for r in results if not r.passed)
        return Decision("no_match", f"conditions not met: {failed}", results, armed)
    cooldown = timedelta(minutes=trigger.cooldown_minutes)
    if in_cooldown(state.last_fired_at, now, cooldown):
        assert state.last_fired_at is not None
        return Decision(
            "skip",
            f"the lead is in this trigger's cooldown until {(state.last_fired_at + cooldown).isoformat()}",
            results,
            armed,
        )
    return Decision("fire", "conditions met", results, armed)


@dataclass(frozen=True)
class PlannedAction:
    label: str  # "0:enroll": the key of its outcome in the execution's response
    type: str
    workflow_id: str | None = None
    properties: dict[str, str] | None = None
    url: str | None = None

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def plan_actions(trigger: TriggerDefinition, context: Mapping[str, Mapping[str, Any]]) -> list[PlannedAction]:
    """The actions with their values filled in: the workflow id enrolment takes, the property values."""
    planned = []
    for index, action in enumerate(trigger.actions):
        label = action_label(index, action)
        if isinstance(action, EnrollAction):
            planned.append(
                PlannedAction(label, action.type, workflow_id=action.workflow_id or action.flow_id)
            )
        elif isinstance(action, PropertyUpdateAction):
            rendered = {name: render(value, context) for name, value in action.properties.items()}
            planned.append(PlannedAction(label, action.type, properties=rendered))
        elif isinstance(action, CustomAction):
            planned.append(PlannedAction(label, action.type, url=action.url))
    return planned
