"""The audit log, as the API's routes write it: `audit.record(conn, ...)` (hubspot_pipeline/db/audit.py), or
`audit.by_caller(conn, caller, action, ...)` for what a workspace's caller did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hubspot_pipeline.db.audit import record

if TYPE_CHECKING:
    from hubspot_pipeline.api.deps import Caller

__all__ = ["by_caller", "record"]


def by_caller(
    conn: sa.Connection, caller: Caller, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """An entry for the caller's workspace, the caller as actor."""
    record(
        conn,
        workspace_id=caller.workspace_id,
        actor=caller.actor,
        action=action,
        target=target,
        details=details,
    )
