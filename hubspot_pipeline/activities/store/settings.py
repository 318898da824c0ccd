"""A workspace's activity choices, from `hubspot_sync_config` (defaults when it never saved any)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from hubspot_pipeline.activities.core.events import ActivitySettings
from hubspot_pipeline.db.tables import hubspot_sync_config, hubspot_sync_status
from hubspot_pipeline.sync.store.workspaces import Workspace, syncing_workspaces


def activity_settings(conn: sa.Connection, workspace_id: uuid.UUID) -> ActivitySettings:
    row = conn.execute(
        sa.select(hubspot_sync_config).where(hubspot_sync_config.c.workspace_id == workspace_id)
    ).first()
    return _settings_of(row)


def _settings_of(row: sa.Row | None) -> ActivitySettings:
    if row is None:
        return ActivitySettings()
    return ActivitySettings(
        enabled=bool(row.enabled and row.sync_activities),
        event_types=frozenset(row.activity_event_types),
        content=row.activity_content,
        timeline_fallback=row.activity_timeline_fallback,
        since=row.activities_since,
    )


def start_logging_since(conn: sa.Connection, workspace_id: uuid.UUID, since: datetime) -> datetime:
    """Set when the workspace's events start being logged, unless it is set already; returns the value."""
    from sqlalchemy.dialects.postgresql import insert

    c = hubspot_sync_config
    statement = insert(c).values(workspace_id=workspace_id, activities_since=since)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[c.c.workspace_id],
            set_={"activities_since": sa.func.coalesce(c.c.activities_since, since)},
        )
    )
    return conn.execute(sa.select(c.c.activities_since).where(c.c.workspace_id == workspace_id)).scalar_one()


def logging_workspaces(conn: sa.Connection) -> list[tuple[Workspace, ActivitySettings]]:
    """The workspaces whose email activity is logged: those that sync (sync/workspaces.py says which; without
    the contact sync no contact would ever exist to log on) with `sync_activities` on, and their choices."""
    syncing = syncing_workspaces(conn)
    c = hubspot_sync_config
    rows = {
        row.workspace_id: row
        for row in conn.execute(sa.select(c).where(c.c.workspace_id.in_([w.id for w in syncing])))
    }
    chosen = [(workspace, _settings_of(rows.get(workspace.id))) for workspace in syncing]
    return [(workspace, settings) for workspace, settings in chosen if settings.enabled]


def has_contacts(conn: sa.Connection, workspace_id: uuid.UUID) -> bool:
    """Whether the contact sync has made any of the workspace's leads a HubSpot contact yet."""
    s = hubspot_sync_status
    found = conn.execute(
        sa.select(s.c.id)
        .where(s.c.workspace_id == workspace_id, s.c.entity_type == "contact", s.c.hubspot_id.is_not(None))
        .limit(1)
    ).first()
    return found is not None
