"""Reading a table as a queue by an increasing position (an id or `seq`) for the sensors that launch runs per
workspace: which workspaces have rows past a cursor."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa


def workspaces_after(
    conn: sa.Connection, position: sa.Column[Any], after: int, limit: int
) -> tuple[dict[uuid.UUID, int], int]:
    """Among the next `limit` rows of `position`'s table past `after`: each workspace's last position, and
    the last position looked at (`after` when there is nothing new), where the cursor moves to."""
    table = position.table
    page = (
        sa.select(table.c.workspace_id, position.label("position"))
        .where(position > after)
        .order_by(position)
        .limit(limit)
        .subquery()
    )
    rows = conn.execute(
        sa.select(page.c.workspace_id, sa.func.max(page.c.position)).group_by(page.c.workspace_id)
    ).all()
    return {w: int(p) for w, p in rows}, max((int(p) for _, p in rows), default=after)
