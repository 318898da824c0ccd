"""Which workspaces sync: connected to HubSpot (holding tokens, connection not marked broken) and not
switched off in their sync configuration. Plain SQL for the schedules and sensors."""

from __future__ import annotations

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_config, lead_changes


def syncing_workspaces(conn: sa.Connection) -> list[str]:
    i, c = hubspot_integrations, hubspot_sync_config
    rows = conn.execute(
        sa.select(sa.cast(i.c.workspace_id, sa.Text))
        .select_from(i.outerjoin(c, c.c.workspace_id == i.c.workspace_id))
        .where(
            i.c.workspace_id.is_not(None),
            i.c.refresh_token.is_not(None),
            sa.func.coalesce(c.c.enabled, True),
            sa.func.coalesce(c.c.sync_contacts, True),
            sa.func.coalesce(c.c.connection_status, "connected") == "connected",
        )
        .order_by(i.c.workspace_id)
    )
    return list(rows.scalars())


def outbox_changes(conn: sa.Connection, after_id: int, limit: int) -> tuple[dict[str, int], int]:
    """Workspaces with outbox rows in the next `limit` rows after `after_id`: workspace -> last row id; and
    the id the cursor moves to."""
    window = (
        sa.select(lead_changes.c.id, lead_changes.c.workspace_id)
        .where(lead_changes.c.id > after_id)
        .order_by(lead_changes.c.id)
        .limit(limit)
        .subquery()
    )
    rows = conn.execute(
        sa.select(sa.cast(window.c.workspace_id, sa.Text), sa.func.max(window.c.id)).group_by(
            window.c.workspace_id
        )
    ).all()
    up_to = max((row[1] for row in rows), default=after_id)
    return {row[0]: int(row[1]) for row in rows}, up_to
