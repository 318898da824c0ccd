"""The audit log: who did what, to which workspace. Details hold ids, counts and setting names only; never
tokens, emails or names (the callers pass nothing else)."""

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
