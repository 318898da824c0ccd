"""The audit log: who did what, to which workspace. Every area writes it through `record`: the API (mutating
calls, OAuth), the command line (keys, rotate-keys), the HubSpot client (token refreshes, reconnects), runs
(what triggered them, counts) and alert notifications.

Details hold ids, counts, types and setting names only: never tokens, URLs with secrets, emails or names
(the callers pass nothing else)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import audit_log


def record(
    conn: sa.Connection,
    *,
    workspace_id: uuid.UUID | None,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            workspace_id=workspace_id, actor=actor, action=action, target=target, details=details or {}
        )
    )


def record_many(conn: sa.Connection, entries: list[dict[str, Any]]) -> None:
    """Several entries (keys as `record`'s arguments) in one statement."""
    if entries:
        conn.execute(
            sa.insert(audit_log),
            [{"target": None, "details": {}, **entry} for entry in entries],
        )
