"""Which workspaces sync, and how runs name them. Plain SQL for the schedules, sensors and run starts.

A workspace syncs when it is connected to HubSpot (holds tokens, connection not marked broken) and its sync
is not switched off in its configuration (no configuration saved means the defaults: on). This is the one
place that rule is written.

Dagster names a workspace by its slug (the partition key of its runs): unique, immutable once created and
free of the characters Dagster reserves in partition keys (migration 0004 enforces all three).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from hubspot_pipeline.db.queues import workspaces_after
from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_config, lead_changes, workspaces


@dataclass(frozen=True)
class Workspace:
    id: uuid.UUID
    slug: str
    name: str


def _workspace(row: sa.Row) -> Workspace:
    return Workspace(row.id, row.slug, row.name)


def syncing_workspaces(conn: sa.Connection, among: Iterable[uuid.UUID] | None = None) -> list[Workspace]:
    """The workspaces whose contact sync runs (of `among`, when given), by slug. A workspace that needs
    reconnecting is left out: it would only fail run after run."""
    w, i, c = workspaces, hubspot_integrations, hubspot_sync_config
    query = (
        sa.select(w.c.id, w.c.slug, w.c.name)
        .select_from(w.join(i, i.c.workspace_id == w.c.id).outerjoin(c, c.c.workspace_id == w.c.id))
        .where(
            i.c.refresh_token.is_not(None),
            sa.func.coalesce(c.c.enabled, True),
            sa.func.coalesce(c.c.sync_contacts, True),
            sa.func.coalesce(c.c.connection_status, "connected") == "connected",
        )
        .order_by(w.c.slug)
    )
    if among is not None:
        query = query.where(w.c.id.in_(list(among)))
    return [_workspace(row) for row in conn.execute(query)]


def workspace_by_slug(conn: sa.Connection, slug: str) -> Workspace | None:
    row = conn.execute(
        sa.select(workspaces.c.id, workspaces.c.slug, workspaces.c.name).where(workspaces.c.slug == slug)
    ).first()
    return _workspace(row) if row else None


def workspaces_by_id(conn: sa.Connection, workspace_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Workspace]:
    """Those of the workspaces that exist, by id, in one query."""
    rows = conn.execute(
        sa.select(workspaces.c.id, workspaces.c.slug, workspaces.c.name).where(
            workspaces.c.id.in_(list(workspace_ids))
        )
    )
    return {row.id: _workspace(row) for row in rows}


def some_slugs(conn: sa.Connection, limit: int) -> tuple[list[str], int]:
    """Up to `limit` workspace slugs, alphabetically, and how many workspaces there are: for messages."""
    slugs = list(conn.scalars(sa.select(workspaces.c.slug).order_by(workspaces.c.slug).limit(limit)))
    total = conn.execute(sa.select(sa.func.count()).select_from(workspaces)).scalar_one()
    return slugs, total


def outbox_changes(conn: sa.Connection, after_id: int, limit: int) -> tuple[dict[uuid.UUID, int], int]:
    """Workspaces with outbox rows in the next `limit` rows after `after_id`: workspace id -> last row id;
    and the id the cursor moves to."""
    return workspaces_after(conn, lead_changes.c.id, after_id, limit)
