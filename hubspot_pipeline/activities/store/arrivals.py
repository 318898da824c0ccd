"""Email events as they are recorded, for the sensor that logs them within seconds: which (workspace, UTC day)
got new events after a `seq` cursor. Events a slow transaction commits behind the cursor are not lost: the
sweep (`status.pending_days`) finds every pending day."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from hubspot_pipeline.db.tables import email_events


def new_event_days(
    conn: sa.Connection, after_seq: int, limit: int
) -> tuple[dict[tuple[uuid.UUID, date], int], int]:
    """(workspace, UTC day) -> the last new event's seq, over the next `limit` events after `after_seq`; and
    the seq the cursor moves to."""
    e = email_events
    window = (
        sa.select(e.c.seq, e.c.workspace_id, e.c.occurred_at).where(e.c.seq > after_seq).order_by(e.c.seq)
    )
    page = window.limit(limit).subquery()
    day = sa.func.date(sa.func.timezone("UTC", page.c.occurred_at))
    rows = conn.execute(
        sa.select(page.c.workspace_id, day, sa.func.max(page.c.seq)).group_by(page.c.workspace_id, day)
    ).all()
    up_to = max((row[2] for row in rows), default=after_seq)
    return {(row[0], row[1]): int(row[2]) for row in rows}, up_to


def last_seq(conn: sa.Connection) -> int:
    """Where a sensor with no cursor starts: events recorded before it are the backfill's and the sweep's."""
    return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(email_events.c.seq), 0))) or 0)
