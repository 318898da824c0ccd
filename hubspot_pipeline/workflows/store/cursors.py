"""Where each workspace's trigger evaluation has read to, per source, in `sync_cursors`. A workspace's
cursors start at the newest event when its first trigger is saved: triggers fire on what happens after
they exist, never on a workspace's history."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db.tables import sync_cursors
from hubspot_pipeline.workflows.store.events import SOURCES, last_positions


def stream(source: str) -> str:
    return f"workflows:{source}"


def start(conn: sa.Connection, workspace_id: uuid.UUID) -> None:
    """Start the workspace's cursors at the newest events, unless they exist."""
    positions = last_positions(conn)
    conn.execute(
        insert(sync_cursors)
        .values(
            [{"workspace_id": workspace_id, "stream": stream(s), "cursor": positions[s]} for s in SOURCES]
        )
        .on_conflict_do_nothing()
    )


def read(conn: sa.Connection, workspace_id: uuid.UUID) -> dict[str, int]:
    start(conn, workspace_id)
    rows = conn.execute(
        sa.select(sync_cursors.c.stream, sync_cursors.c.cursor).where(
            sync_cursors.c.workspace_id == workspace_id,
            sync_cursors.c.stream.in_([stream(s) for s in SOURCES]),
        )
    )
    found = {name: int(value) for name, value in rows}
    return {s: found[stream(s)] for s in SOURCES}


def advance(conn: sa.Connection, workspace_id: uuid.UUID, source: str, position: int) -> None:
    conn.execute(
        sa.update(sync_cursors)
        .where(sync_cursors.c.workspace_id == workspace_id, sync_cursors.c.stream == stream(source))
        .values(cursor=position, updated_at=sa.func.now())
    )
