"""Sync requests: queued by the API (contacts, or activities with an optional date range and event types),
turned into Dagster runs by the sync-request sensor (defs/webhooks/sensors.py), whose outcome the sensor
writes back here."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import sync_requests

# Taken (transaction-scoped) around each insert, so that `seq` values commit in the order they were drawn
# and the sensor's cursor, the highest seq it has seen, can never skip a request committed late.
SYNC_REQUEST_INSERT_LOCK = 0x48505352  # "HPSR"


def queue_request(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    kind: str = "contacts",
    dry_run: bool = False,
    full_resync: bool = False,
    requested_by: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    event_types: list[str] | None = None,
) -> dict[str, Any]:
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SYNC_REQUEST_INSERT_LOCK)))
    row = conn.execute(
        sa.insert(sync_requests)
        .values(
            workspace_id=workspace_id,
            kind=kind,
            dry_run=dry_run,
            full_resync=full_resync,
            requested_by=requested_by,
            date_from=date_from,
            date_to=date_to,
            event_types=event_types,
        )
        .returning(*sync_requests.c)
    ).one()
    return dict(row._mapping)


def get_request(conn: sa.Connection, workspace_id: uuid.UUID, request_id: uuid.UUID) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(sync_requests).where(
            sync_requests.c.id == request_id, sync_requests.c.workspace_id == workspace_id
        )
    ).first()
    return dict(row._mapping) if row else None


def recent_requests(conn: sa.Connection, workspace_id: uuid.UUID, limit: int = 10) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(sync_requests)
        .where(sync_requests.c.workspace_id == workspace_id)
        .order_by(sync_requests.c.seq.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]
