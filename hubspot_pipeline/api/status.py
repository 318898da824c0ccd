"""What GET /sync/status reports for a workspace: recent runs with their counts, rows in error (contacts,
companies, email activity), the retry index, cursor lag, queue depths, the email activity's backlog and
counts, and open alerts. Read-only queries, each bounded."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.activities.store.status import activity_status
from hubspot_pipeline.api.dagster_runs import recent_runs
from hubspot_pipeline.api.sync_requests import recent_requests
from hubspot_pipeline.db.tables import (
    hubspot_sync_status,
    lead_changes,
    sync_cursors,
    sync_requests,
    webhook_events,
)
from hubspot_pipeline.monitoring.alerts import workspace_alerts

ERROR_ROWS_SHOWN = 50


def _entity_counts(conn: sa.Connection, workspace_id: uuid.UUID) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        sa.select(hubspot_sync_status.c.entity_type, hubspot_sync_status.c.status, sa.func.count())
        .where(hubspot_sync_status.c.workspace_id == workspace_id)
        .group_by(hubspot_sync_status.c.entity_type, hubspot_sync_status.c.status)
    )
    counts: dict[str, dict[str, int]] = {}
    for entity_type, status, count in rows:
        counts.setdefault(entity_type or "unknown", {})[status or "unknown"] = count
    return counts


def _errors(conn: sa.Connection, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    status = hubspot_sync_status.c
    rows = conn.execute(
        sa.select(
            status.entity_type,
            status.entity_id,
            status.hubspot_id,
            status.error_message,
            status.attempts,
            status.dead_at,
            status.updated_at,
        )
        .where(status.workspace_id == workspace_id, status.status == "error")
        .order_by(status.updated_at.desc())
        .limit(ERROR_ROWS_SHOWN)
    )
    return [dict(row._mapping) for row in rows]


def _retry_index(conn: sa.Connection, workspace_id: uuid.UUID) -> dict[str, int]:
    status = hubspot_sync_status.c
    row = conn.execute(
        sa.select(
            sa.func.count().filter(status.dead_at.is_(None)).label("retrying"),
            sa.func.count().filter(status.dead_at.is_not(None)).label("dead"),
        ).where(status.workspace_id == workspace_id, status.status == "error")
    ).one()
    return {"size": row.retrying, "dead": row.dead}


def _cursor_position(cursor: Any) -> int | None:
    """The outbox id a cursor has read up to, when the cursor records one."""
    if isinstance(cursor, int):
        return cursor
    if isinstance(cursor, dict):
        for key in ("last_id", "id", "position"):
            if isinstance(cursor.get(key), int):
                return cursor[key]
    return None


def _data_lag(cursor: Any, now: datetime) -> float | None:
    """How far behind now the data a cursor has read is, when the cursor records a time (HubSpot search)."""
    if isinstance(cursor, dict) and isinstance(cursor.get("modified_ms"), int) and cursor["modified_ms"] > 0:
        return round(now.timestamp() - cursor["modified_ms"] / 1000, 1)
    return None


def _cursors(conn: sa.Connection, workspace_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(sync_cursors.c.stream, sync_cursors.c.cursor, sync_cursors.c.updated_at).where(
            sync_cursors.c.workspace_id == workspace_id
        )
    )
    return [
        {
            "stream": row.stream,
            "updated_at": row.updated_at,
            "lag_seconds": round((now - row.updated_at).total_seconds(), 1),
            "data_lag_seconds": _data_lag(row.cursor, now),
            "position": _cursor_position(row.cursor),
        }
        for row in rows
    ]


def _queues(conn: sa.Connection, workspace_id: uuid.UUID, cursors: list[dict[str, Any]]) -> dict[str, int]:
    webhooks = conn.execute(
        sa.select(sa.func.count()).where(
            webhook_events.c.workspace_id == workspace_id, webhook_events.c.processed_at.is_(None)
        )
    ).scalar_one()
    requests = conn.execute(
        sa.select(sa.func.count()).where(
            sync_requests.c.workspace_id == workspace_id, sync_requests.c.status.in_(("queued", "launched"))
        )
    ).scalar_one()
    outbox_position = next(
        (c["position"] for c in cursors if "outbox" in c["stream"] or "lead_changes" in c["stream"]), None
    )
    outbox = sa.select(sa.func.count()).where(lead_changes.c.workspace_id == workspace_id)
    if outbox_position is not None:
        outbox = outbox.where(lead_changes.c.id > outbox_position)
    return {
        "webhook_events_pending": webhooks,
        "sync_requests_pending": requests,
        "lead_changes_pending": conn.execute(outbox).scalar_one(),
    }


def workspace_status(conn: sa.Connection, workspace_id: uuid.UUID) -> dict[str, Any]:
    now = datetime.now(UTC)
    cursors = _cursors(conn, workspace_id, now)
    return {
        "workspace_id": workspace_id,
        "as_of": now,
        "recent_runs": recent_requests(conn, workspace_id),
        "dagster_runs": recent_runs(workspace_id),
        "entities": _entity_counts(conn, workspace_id),
        "errors": _errors(conn, workspace_id),
        "retry_index": _retry_index(conn, workspace_id),
        "cursors": cursors,
        "queues": _queues(conn, workspace_id, cursors),
        "activities": asdict(activity_status(conn, workspace_id)),
        "open_alerts": workspace_alerts(conn, workspace_id, status="firing", limit=ERROR_ROWS_SHOWN),
    }
