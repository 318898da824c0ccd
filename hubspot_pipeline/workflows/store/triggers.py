"""The workspace's triggers in `hubspot_workflow_triggers`. A deleted trigger is kept (deleted_at) with its
execution history and never read here again, except by id for that history."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_workflow_executions as executions
from hubspot_pipeline.db.tables import hubspot_workflow_triggers as triggers
from hubspot_pipeline.workflows.core.model import PropertyUpdateAction, TriggerDefinition


@dataclass(frozen=True)
class Trigger:
    id: uuid.UUID
    workspace_id: uuid.UUID
    definition: TriggerDefinition
    created_at: datetime | None
    updated_at: datetime | None


def _values(definition: TriggerDefinition) -> dict[str, Any]:
    data = definition.model_dump(mode="json")
    enrolls = definition.enroll_actions()
    properties: dict[str, str] = {}
    for action in definition.actions:
        if isinstance(action, PropertyUpdateAction):
            properties.update(action.properties)
    return {
        "name": data["name"],
        "description": data["description"],
        "enabled": data["enabled"],
        "event_type": data["event_type"],
        "threshold": data["threshold"],
        "cooldown_minutes": data["cooldown_minutes"],
        "conditions": data["conditions"],
        "actions": data["actions"],
        # The seed's own columns, kept true for readers of the table: the (first) workflow enrolled in and
        # the properties set.
        "hubspot_workflow_id": enrolls[0].workflow_id if enrolls else None,
        "property_updates": [{"property": k, "value": v} for k, v in properties.items()],
    }


def _trigger(row: Any) -> Trigger:
    definition = TriggerDefinition.model_validate(
        {
            "name": row.name,
            "description": row.description,
            "enabled": bool(row.enabled),
            "event_type": row.event_type,
            "threshold": row.threshold,
            "cooldown_minutes": row.cooldown_minutes,
            "conditions": row.conditions or [],
            "actions": row.actions or [],
        }
    )
    return Trigger(row.id, row.workspace_id, definition, row.created_at, row.updated_at)


def create(conn: sa.Connection, workspace_id: uuid.UUID, definition: TriggerDefinition) -> Trigger:
    from hubspot_pipeline.workflows.store import cursors

    cursors.start(conn, workspace_id)  # the first trigger of a workspace: evaluation starts now
    row = conn.execute(
        sa.insert(triggers).values(workspace_id=workspace_id, **_values(definition)).returning(triggers)
    ).one()
    return _trigger(row)


def _live(workspace_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(triggers.c.workspace_id == workspace_id, triggers.c.deleted_at.is_(None))


def update(
    conn: sa.Connection, workspace_id: uuid.UUID, trigger_id: uuid.UUID, definition: TriggerDefinition
) -> Trigger | None:
    row = conn.execute(
        sa.update(triggers)
        .where(_live(workspace_id), triggers.c.id == trigger_id)
        .values(**_values(definition), updated_at=sa.func.now())
        .returning(triggers)
    ).first()
    return _trigger(row) if row else None


def soft_delete(conn: sa.Connection, workspace_id: uuid.UUID, trigger_id: uuid.UUID) -> bool:
    found = conn.execute(
        sa.update(triggers)
        .where(_live(workspace_id), triggers.c.id == trigger_id)
        .values(deleted_at=sa.func.now(), enabled=False, updated_at=sa.func.now())
        .returning(triggers.c.id)
    ).first()
    return found is not None


def get(conn: sa.Connection, workspace_id: uuid.UUID, trigger_id: uuid.UUID) -> Trigger | None:
    row = conn.execute(sa.select(triggers).where(_live(workspace_id), triggers.c.id == trigger_id)).first()
    return _trigger(row) if row else None


def live(
    conn: sa.Connection, workspace_id: uuid.UUID, event_types: Iterable[str] | None = None
) -> list[Trigger]:
    query = sa.select(triggers).where(_live(workspace_id)).order_by(triggers.c.created_at, triggers.c.id)
    if event_types is not None:
        query = query.where(triggers.c.event_type.in_(sorted(event_types)))
    return [_trigger(row) for row in conn.execute(query)]


def execution_counts(
    conn: sa.Connection, workspace_id: uuid.UUID, since: datetime
) -> dict[uuid.UUID, dict[str, int]]:
    rows = conn.execute(
        sa.select(executions.c.trigger_id, executions.c.status, sa.func.count())
        .where(executions.c.workspace_id == workspace_id, executions.c.created_at >= since)
        .group_by(executions.c.trigger_id, executions.c.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for trigger_id, status, count in rows:
        counts[trigger_id][status] = count
    return counts
