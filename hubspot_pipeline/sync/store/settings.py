"""A workspace's sync settings and field mappings, as saved (`hubspot_sync_config`, `hubspot_field_mappings`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_field_mappings, hubspot_sync_config


@dataclass(frozen=True)
class WorkspaceSettings:
    enabled: bool = True
    conflict_policy: str = "latest"
    on_hubspot_archive: str = "unlink"
    sync_companies: bool = True


def workspace_settings(conn: sa.Connection, workspace_id: uuid.UUID) -> WorkspaceSettings:
    row = conn.execute(
        sa.select(hubspot_sync_config).where(hubspot_sync_config.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        return WorkspaceSettings()
    return WorkspaceSettings(
        enabled=bool(row.enabled and row.sync_contacts),
        conflict_policy=row.conflict_policy,
        on_hubspot_archive=row.on_hubspot_archive,
        sync_companies=bool(row.sync_companies),
    )


def mapping_rows(conn: sa.Connection, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(hubspot_field_mappings)
        .where(hubspot_field_mappings.c.workspace_id == workspace_id)
        .order_by(hubspot_field_mappings.c.created_at, hubspot_field_mappings.c.id)
    ).mappings()
    return [dict(row) for row in rows]
