"""The events triggers evaluate, read by cursor: ColdCopy's email events (their `seq`) and the scoring's
engagement events (their id). Only kinds that can fire a trigger are returned (threshold_crossed events are
read past: each high_engagement trigger judges score changes against its own threshold)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import email_events, engagement_events
from hubspot_pipeline.workflows.core.events import EMAIL_TRIGGER_TYPES, Event


def email_event(row: Any) -> Event:
    fields = {
        "type": row.event_type,
        "link_url": row.link_url,
        "bounce_reason": row.bounce_reason,
        "campaign_id": str(row.campaign_id) if row.campaign_id else None,
    }
    return Event(
        "email",
        str(row.id),
        row.event_type,
        row.workspace_id,
        row.lead_id,
        row.occurred_at,
        {k: v for k, v in fields.items() if v is not None},
        str(row.message_id) if row.message_id else None,
    )


def _rows_after(
    conn: sa.Connection, cursor: sa.Column, after: int, limit: int, workspace_id: uuid.UUID | None
) -> tuple[list[Any], int]:
    """Up to `limit` rows of the cursor column's table after `after`, in cursor order (one workspace's if
    given), and the last cursor value read (`after` when none)."""
    table = cursor.table
    query = sa.select(table).where(cursor > after).order_by(cursor).limit(limit)
    if workspace_id is not None:
        query = query.where(table.c.workspace_id == workspace_id)
    rows = list(conn.execute(query).all())
    return rows, (int(getattr(rows[-1], cursor.name)) if rows else after)


def email_events_after(
    conn: sa.Connection, after_seq: int, limit: int, workspace_id: uuid.UUID | None = None
) -> tuple[list[Event], int]:
    """Email events recorded after `after_seq` that can fire a trigger, and the last seq read."""
    rows, last = _rows_after(conn, email_events.c.seq, after_seq, limit, workspace_id)
    return [email_event(row) for row in rows if row.event_type in EMAIL_TRIGGER_TYPES], last


def last_email_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(email_events.c.seq), 0))).scalar_one())


def engagement_event(row: Any) -> Event:
    fields = {
        "type": row.kind,
        "old_score": row.old_score,
        "new_score": row.new_score,
        "threshold": row.threshold,
        "direction": row.direction,
        "intent": row.intent,
        "confidence": row.confidence,
    }
    return Event(
        "engagement",
        str(row.id),
        row.kind,
        row.workspace_id,
        row.lead_id,
        row.occurred_at,
        {k: v for k, v in fields.items() if v is not None},
        str(row.message_id) if row.message_id else None,
    )


def engagement_events_after(
    conn: sa.Connection, after_id: int, limit: int, workspace_id: uuid.UUID | None = None
) -> tuple[list[Event], int]:
    """Engagement events (score changes, decided intents) recorded after `after_id`, and the last id read.
    Their ids commit in order (the table's insert lock), so nothing behind the cursor appears later."""
    rows, last = _rows_after(conn, engagement_events.c.id, after_id, limit, workspace_id)
    return [engagement_event(row) for row in rows if row.kind != "threshold_crossed"], last


def last_engagement_id(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(engagement_events.c.id), 0))).scalar_one())


SOURCES = ("email_events", "engagement_events")
READERS = {"email_events": email_events_after, "engagement_events": engagement_events_after}


def last_positions(conn: sa.Connection) -> dict[str, int]:
    return {"email_events": last_email_seq(conn), "engagement_events": last_engagement_id(conn)}
