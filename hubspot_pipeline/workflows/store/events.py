"""The events triggers evaluate, read by cursor: ColdCopy's email events (their `seq`) and, once the scoring
records them, engagement events (their id). Only kinds that can fire a trigger are returned."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import email_events
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


def email_events_after(
    conn: sa.Connection, after_seq: int, limit: int, workspace_id: uuid.UUID | None = None
) -> tuple[list[Event], int]:
    """Email events recorded after `after_seq` that can fire a trigger, and the last seq read."""
    e = email_events
    query = sa.select(e).where(e.c.seq > after_seq).order_by(e.c.seq).limit(limit)
    if workspace_id is not None:
        query = query.where(e.c.workspace_id == workspace_id)
    rows = conn.execute(query).all()
    last = rows[-1].seq if rows else after_seq
    return [email_event(row) for row in rows if row.event_type in EMAIL_TRIGGER_TYPES], last


def last_email_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(email_events.c.seq), 0))).scalar_one())


SOURCES = ("email_events",)
READERS = {"email_events": email_events_after}


def last_positions(conn: sa.Connection) -> dict[str, int]:
    return {"email_events": last_email_seq(conn)}
