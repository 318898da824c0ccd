"""Executions: one row per (trigger, event), unique on (trigger_id, event_key), and each trigger's memory of
each lead (threshold armed, last fired).

An execution is created `pending` (or `skipped`, with why: a cooldown) in the same transaction that updates
the trigger's state for the lead, so an event is decided once. Acting on it is claimed: `claim` sets
`claimed_until`, and only one process holds an unexpired claim; a killed process's claim runs out and the
next run takes the row over, finding in `response` what each action had done (actions.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from hubspot_pipeline.db.tables import hubspot_workflow_executions as executions
from hubspot_pipeline.db.tables import hubspot_workflow_trigger_leads as states
from hubspot_pipeline.db.tables import hubspot_workflow_triggers as triggers
from hubspot_pipeline.workflows.core.decide import LeadState

CLAIM = timedelta(minutes=2)


def lock_state(
    conn: sa.Connection, workspace_id: uuid.UUID, trigger_id: uuid.UUID, lead_id: uuid.UUID
) -> LeadState:
    """The trigger's state for the lead, its row locked until the transaction ends (created if new)."""
    conn.execute(
        insert(states)
        .values(trigger_id=trigger_id, lead_id=lead_id, workspace_id=workspace_id)
        .on_conflict_do_nothing()
    )
    row = conn.execute(
        sa.select(states.c.armed, states.c.last_fired_at)
        .where(states.c.trigger_id == trigger_id, states.c.lead_id == lead_id)
        .with_for_update()
    ).one()
    return LeadState(row.armed, row.last_fired_at)


def save_state(
    conn: sa.Connection,
    trigger_id: uuid.UUID,
    lead_id: uuid.UUID,
    *,
    armed: bool | None,
    fired_at: datetime | None,
) -> None:
    values: dict[str, Any] = {}
    if armed is not None:
        values["armed"] = armed
    if fired_at is not None:
        values["last_fired_at"] = fired_at
    if values:
        conn.execute(
            sa.update(states)
            .where(states.c.trigger_id == trigger_id, states.c.lead_id == lead_id)
            .values(**values)
        )


def exists(conn: sa.Connection, trigger_id: uuid.UUID, event_key: str) -> bool:
    found = conn.execute(
        sa.select(executions.c.id).where(
            executions.c.trigger_id == trigger_id, executions.c.event_key == event_key
        )
    ).first()
    return found is not None


def create(conn: sa.Connection, **values: Any) -> uuid.UUID | None:
    """A new execution; None when (trigger_id, event_key) already has one."""
    row = conn.execute(
        insert(executions)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[executions.c.trigger_id, executions.c.event_key])
        .returning(executions.c.id)
    ).first()
    return row[0] if row else None


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    workspace_id: uuid.UUID
    trigger_id: uuid.UUID | None
    trigger_live: bool  # neither deleted nor disabled
    trigger_name: str | None
    event_type: str
    event_key: str
    lead_id: uuid.UUID | None
    attempts: int
    created_at: datetime
    occurred_at: datetime | None
    metadata: dict[str, Any]
    response: dict[str, Any]


def claim(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    limit: int = 100,
    ids: list[uuid.UUID] | None = None,
    now: datetime,
) -> list[Claimed]:
    """Take pending executions that are due and not claimed by a live process."""
    e = executions
    due = (
        sa.select(e.c.id)
        .where(
            e.c.workspace_id == workspace_id,
            e.c.status == "pending",
            sa.or_(e.c.next_attempt_at.is_(None), e.c.next_attempt_at <= now),
            sa.or_(e.c.claimed_until.is_(None), e.c.claimed_until < now),
        )
        .order_by(e.c.created_at, e.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        due = due.where(e.c.id.in_(ids))
    claimed = (
        conn.execute(
            sa.update(e)
            .where(e.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + CLAIM)
            .returning(e.c.id)
        )
        .scalars()
        .all()
    )
    if not claimed:
        return []
    t = triggers
    rows = conn.execute(
        sa.select(e, t.c.name.label("trigger_name"), t.c.enabled, t.c.deleted_at)
        .select_from(e.outerjoin(t, t.c.id == e.c.trigger_id))
        .where(e.c.id.in_(claimed))
        .order_by(e.c.created_at, e.c.id)
    )
    return [
        Claimed(
            row.id,
            row.workspace_id,
            row.trigger_id,
            bool(row.enabled) and row.deleted_at is None,
            row.trigger_name,
            row.event_type,
            row.event_key,
            row.lead_id,
            row.attempts,
            row.created_at,
            row.occurred_at,
            dict(row.metadata or {}),
            dict(row.response or {}),
        )
        for row in rows
    ]


def note_action(conn: sa.Connection, execution_id: uuid.UUID, label: str, state: dict[str, Any]) -> None:
    """Record what one action did (or is about to do: `in_flight`), committed with the caller's transaction."""
    conn.execute(
        sa.update(executions)
        .where(executions.c.id == execution_id)
        .values(response=executions.c.response.op("||")(sa.bindparam("patch", {label: state}, type_=JSONB)))
    )


def finish(
    conn: sa.Connection,
    execution_id: uuid.UUID,
    status: str,
    *,
    error: str | None = None,
    contact_id: str | None = None,
    attempts: int | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "error_message": error,
        "claimed_until": None,
        "next_attempt_at": None,
        "finished_at": sa.func.now(),
        "execution_time": sa.func.now(),
    }
    if contact_id is not None:
        values["hubspot_contact_id"] = contact_id
    if attempts is not None:
        values["attempts"] = attempts
    conn.execute(sa.update(executions).where(executions.c.id == execution_id).values(**values))


def postpone(
    conn: sa.Connection, execution_id: uuid.UUID, *, until: datetime, error: str, attempts: int | None = None
) -> None:
    """Leave it pending, to be tried again at `until` (a retry, or a contact not in HubSpot yet)."""
    values: dict[str, Any] = {"next_attempt_at": until, "error_message": error, "claimed_until": None}
    if attempts is not None:
        values["attempts"] = attempts
    conn.execute(sa.update(executions).where(executions.c.id == execution_id).values(**values))


def by_keys(conn: sa.Connection, workspace_id: uuid.UUID, event_keys: list[str]) -> list[dict[str, Any]]:
    """The executions of these events, as the API answers them."""
    return listed(conn, workspace_id, sa.and_(executions.c.event_key.in_(event_keys)))


def newest_first(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    limit: int,
    trigger_id: uuid.UUID | None = None,
    status: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """A page of the workspace's executions, newest first: those created before `before` (created_at, id),
    the last row of the previous page, of one trigger and one status if given."""
    e = executions
    where: list[sa.ColumnElement[bool]] = [sa.true()]
    if trigger_id is not None:
        where.append(e.c.trigger_id == trigger_id)
    if status is not None:
        where.append(e.c.status == status)
    if before is not None:
        at, row_id = before
        where.append(sa.tuple_(e.c.created_at, e.c.id) < sa.tuple_(sa.literal(at), sa.literal(row_id)))
    return listed(conn, workspace_id, sa.and_(*where), limit, newest=True)


def listed(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    where: sa.ColumnElement[bool],
    limit: int = 500,
    *,
    newest: bool = False,
) -> list[dict[str, Any]]:
    e, t = executions, triggers
    order = (e.c.created_at.desc(), e.c.id.desc()) if newest else (e.c.created_at, e.c.id)
    rows = conn.execute(
        sa.select(e, t.c.name.label("trigger_name"))
        .select_from(e.outerjoin(t, t.c.id == e.c.trigger_id))
        .where(e.c.workspace_id == workspace_id, where)
        .order_by(*order)
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "trigger_id": row.trigger_id,
            "trigger_name": row.trigger_name,
            "event_type": row.event_type,
            "event_key": row.event_key,
            "lead_id": row.lead_id,
            "hubspot_contact_id": row.hubspot_contact_id,
            "status": row.status,
            "error": row.error_message,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at,
            "response": row.response or {},
            "created_at": row.created_at,
            "finished_at": row.finished_at,
        }
        for row in rows
    ]
