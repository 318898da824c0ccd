"""Reading the two queues the API fills, for the sensors: webhook events and sync requests. Plain SQL, no
Dagster. Both are read by an increasing column (`webhook_events.id`, `sync_requests.seq`) whose inserts are
serialized (api/webhook_ingest.py, api/sync_requests.py), so a cursor on it never skips a late commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import sync_requests, webhook_events

# Change sources of writes made by software through the API: an app (ours among them: the sync's own writes
# echo back as these) or a private app. Anything else (CRM_UI, IMPORT, MERGE, none given) may be a person.
AUTOMATED_SOURCES = ("INTEGRATION", "API")


@dataclass(frozen=True)
class WorkspaceEvents:
    """A workspace's share of one batch of the webhook queue: ids in (after_id, up_to_id]."""

    workspace_id: uuid.UUID
    after_id: int
    up_to_id: int
    count: int
    first_occurred_at: int
    last_occurred_at: int
    not_automated: int  # events whose change source is not AUTOMATED_SOURCES: someone's edit


@dataclass(frozen=True)
class WebhookBatch:
    up_to_id: int  # the new cursor: every event up to here has been looked at
    by_workspace: list[WorkspaceEvents]
    unassigned: int  # events of portals no workspace is connected to


def next_webhook_batch(conn: sa.Connection, after_id: int, limit: int) -> WebhookBatch | None:
    """The next `limit` events after `after_id`, grouped by workspace; None when the queue has nothing new."""
    window = (
        sa.select(
            webhook_events.c.id,
            webhook_events.c.workspace_id,
            webhook_events.c.occurred_at,
            webhook_events.c.change_source,
        )
        .where(webhook_events.c.id > after_id)
        .order_by(webhook_events.c.id)
        .limit(limit)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            window.c.workspace_id,
            sa.func.min(window.c.id),
            sa.func.max(window.c.id),
            sa.func.count(),
            sa.func.min(window.c.occurred_at),
            sa.func.max(window.c.occurred_at),
            sa.func.count().filter(sa.func.coalesce(window.c.change_source, "").not_in(AUTOMATED_SOURCES)),
        ).group_by(window.c.workspace_id)
    ).all()
    if not rows:
        return None
    up_to_id = max(row[2] for row in rows)
    groups = [
        WorkspaceEvents(
            workspace_id=row[0],
            after_id=after_id,
            up_to_id=up_to_id,
            count=row[3],
            first_occurred_at=row[4],
            last_occurred_at=row[5],
            not_automated=row[6],
        )
        for row in rows
        if row[0] is not None
    ]
    unassigned = sum(row[3] for row in rows if row[0] is None)
    return WebhookBatch(
        up_to_id=up_to_id,
        by_workspace=sorted(groups, key=lambda g: str(g.workspace_id)),
        unassigned=unassigned,
    )


def new_sync_requests(conn: sa.Connection, after_seq: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(sync_requests)
        .where(sync_requests.c.seq > after_seq, sync_requests.c.status == "queued")
        .order_by(sync_requests.c.seq)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def unfinished_sync_requests(conn: sa.Connection, up_to_seq: int, limit: int) -> list[dict[str, Any]]:
    """Requests already handed to Dagster whose outcome is not recorded yet, newest first: a pile of old
    requests whose runs never came (see ORPHANED_AFTER in sensors.py) must not hide the live ones."""
    rows = conn.execute(
        sa.select(sync_requests)
        .where(sync_requests.c.seq <= up_to_seq, sync_requests.c.status.in_(("queued", "launched")))
        .order_by(sync_requests.c.seq.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def record_sync_request_outcome(
    conn: sa.Connection,
    request_id: uuid.UUID,
    *,
    status: str,
    run_id: str,
    launched_at: datetime | None,
    finished_at: datetime | None,
    result: dict[str, Any] | None,
) -> None:
    conn.execute(
        sa.update(sync_requests)
        .where(sync_requests.c.id == request_id)
        .values(status=status, run_id=run_id, launched_at=launched_at, finished_at=finished_at, result=result)
    )
