"""Company pair state: `hubspot_sync_status` rows of entity_type `company` (entity_id `company_id(workspace,
domain)`), holding the HubSpot id and the values last pushed with their hash."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status

ENTITY = "company"


def known_companies(
    conn: sa.Connection, workspace_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """entity id -> row (hubspot_id, sync_hash) of the companies already paired."""
    s = hubspot_sync_status
    rows = conn.execute(
        sa.select(s.c.entity_id, s.c.hubspot_id, s.c.sync_hash).where(
            s.c.workspace_id == workspace_id, s.c.entity_type == ENTITY, s.c.entity_id.in_(list(ids))
        )
    )
    return {row.entity_id: row for row in rows}


def record_companies(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    rows: dict[uuid.UUID, tuple[str, dict[str, str], str | None]],
) -> None:
    """entity id -> (HubSpot id, the values pushed, their hash): paired and synced."""
    for entity_id, (hubspot_id, agreed, sync_hash) in rows.items():
        conn.execute(
            sa.text(
                "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, agreed, sync_hash, "
                f"status, last_synced_at) VALUES (:ws, '{ENTITY}', :id, :hid, :agreed, :hash, 'synced', "
                "now() AT TIME ZONE 'UTC') ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE SET "
                "hubspot_id = excluded.hubspot_id, agreed = excluded.agreed, sync_hash = excluded.sync_hash, "
                "status = 'synced', error_message = NULL, last_synced_at = excluded.last_synced_at, updated_at = now()"
            ).bindparams(sa.bindparam("agreed", type_=hubspot_sync_status.c.agreed.type)),
            {"ws": workspace_id, "id": entity_id, "hid": hubspot_id, "agreed": agreed, "hash": sync_hash},
        )
