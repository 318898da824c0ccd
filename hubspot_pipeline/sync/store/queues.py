"""What the sync reads from and moves along: the lead outbox (`lead_changes`), the webhook queue
(`webhook_events`) and the cursors of both and of HubSpot's search (`sync_cursors`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db.tables import sync_cursors, webhook_events
from hubspot_pipeline.sync.core.markers import ROW_TIME

OUTBOX_STREAM = "lead_outbox"


SEARCH_STREAM = "hubspot_contacts_search"
COMPANY_OUTBOX_STREAM = "company_outbox"
COMPANY_SEARCH_STREAM = "hubspot_companies_search"


WEBHOOK_STREAM = "hubspot_webhooks"


@dataclass
class OutboxBatch:
    lead_ids: list[str]
    deleted: list[str]
    times: pd.DataFrame  # index lead id, columns lead field names and ROW_TIME
    up_to_id: int


# The outboxes: lead_changes (by lead_id) and company_changes (by company_id), the same shape.
OUTBOXES = {"lead_changes": "lead_id", "company_changes": "company_id"}


def read_outbox(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    after_id: int,
    limit: int = 200_000,
    table: str = "lead_changes",
) -> OutboxBatch:
    """Outbox rows after `after_id` (at most `limit`): which leads (or, from `company_changes`, companies)
    changed, which were deleted, and when each field last changed. PostgreSQL aggregates, so 50,000 rows
    come back as one narrow row per lead and field."""
    key = OUTBOXES[table]
    rows = conn.execute(
        sa.text(
            f"WITH batch AS (SELECT id, {key} AS lead_id, operation, changed_fields, changed_at FROM {table} "
            "WHERE workspace_id = :ws AND id > :after ORDER BY id LIMIT :limit) "
            "SELECT lead_id::text, field, max(changed_at), max(id), "
            "(array_agg(operation ORDER BY id DESC))[1] FROM batch, "
            f"unnest(coalesce(changed_fields, ARRAY['{ROW_TIME}'])) AS field GROUP BY lead_id, field"
        ),
        {"ws": workspace_id, "after": after_id, "limit": limit},
    ).all()
    if not rows:
        return OutboxBatch([], [], pd.DataFrame(), after_id)
    frame = pd.DataFrame.from_records(
        [tuple(r) for r in rows], columns=["lead_id", "field", "changed_at", "id", "operation"]
    )  # plain tuples: see leads.read_leads
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    last = frame.sort_values("id").groupby("lead_id")["operation"].last()
    deleted = sorted(last[last == "delete"].index)
    times = frame.pivot(index="lead_id", columns="field", values="changed_at")
    return OutboxBatch(sorted(last.index), deleted, times, int(frame["id"].max()))


def newest_field_times(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Sequence[str], table: str = "lead_changes"
) -> pd.DataFrame:
    """When each field of these leads (or companies) last changed, from all their outbox rows, the ones
    before the cursor too: a retried pair's ColdCopy edits keep their times after the run that read them.
    Index lead id, columns lead fields (and ROW_TIME for inserts), like OutboxBatch.times."""
    key = OUTBOXES[table]
    rows = conn.execute(
        sa.text(
            f"SELECT {key}::text, field, max(changed_at) FROM {table}, "
            f"unnest(coalesce(changed_fields, ARRAY['{ROW_TIME}'])) AS field "
            f"WHERE workspace_id = :ws AND {key} = ANY(CAST(:ids AS uuid[])) GROUP BY {key}, field"
        ),
        {"ws": workspace_id, "ids": sorted(set(lead_ids))},
    ).all()
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(rows, columns=["lead_id", "field", "changed_at"])
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame.pivot(index="lead_id", columns="field", values="changed_at")


def get_cursor(conn: sa.Connection, workspace_id: uuid.UUID, stream: str) -> Any:
    return conn.execute(
        sa.select(sync_cursors.c.cursor).where(
            sync_cursors.c.workspace_id == workspace_id, sync_cursors.c.stream == stream
        )
    ).scalar_one_or_none()


def cursor_age_seconds(conn: sa.Connection, workspace_id: uuid.UUID, stream: str) -> float | None:
    """Seconds since the cursor was last written (a run read that stream up to date), None if never."""
    age = conn.execute(
        sa.select(sa.func.extract("epoch", sa.func.now() - sync_cursors.c.updated_at)).where(
            sync_cursors.c.workspace_id == workspace_id, sync_cursors.c.stream == stream
        )
    ).scalar_one_or_none()
    return float(age) if age is not None else None


def set_cursor(conn: sa.Connection, workspace_id: uuid.UUID, stream: str, value: Any) -> None:
    statement = insert(sync_cursors).values(workspace_id=workspace_id, stream=stream, cursor=value)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "stream"], set_={"cursor": value, "updated_at": sa.func.now()}
        )
    )


def pending_webhook_events(
    conn: sa.Connection, workspace_id: uuid.UUID, limit: int = 50_000
) -> list[dict[str, Any]]:
    w = webhook_events
    rows = conn.execute(
        sa.select(
            w.c.id, w.c.object_id, w.c.occurred_at, w.c.subscription_type, w.c.property_name, w.c.payload
        )
        .where(w.c.workspace_id == workspace_id, w.c.processed_at.is_(None))
        .order_by(w.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def mark_webhooks_processed(conn: sa.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(
            sa.update(webhook_events)
            .where(webhook_events.c.id.in_(list(ids)))
            .values(processed_at=sa.func.now())
        )
