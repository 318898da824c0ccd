"""What a sync run records in PostgreSQL, in its one transaction: leads updated and created from HubSpot (under
`sync_writer`, so the outbox trigger does not echo them), pair state and the retry index, lead digests,
tombstones and conflicts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db.tables import (
    hubspot_sync_status,
    leads,
    sync_conflicts,
)
from hubspot_pipeline.sync.core.mapping import CUSTOM_PREFIX, MappingSet
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, TOMBSTONE
from hubspot_pipeline.sync.store.leads import digest_sql
from hubspot_pipeline.sync.store.state import ENTITY, MAX_ATTEMPTS


def apply_lead_updates(
    conn: sa.Connection, workspace_id: uuid.UUID, updates: list[tuple[str, dict[str, str]]]
) -> dict[str, str]:
    """Update leads with values from HubSpot; returns lead id -> error for rows that could not be written."""
    errors: dict[str, str] = {}
    for lead_id, fields in updates:
        columns = {k: (v or None) for k, v in fields.items() if not k.startswith(CUSTOM_PREFIX)}
        custom = {k[len(CUSTOM_PREFIX) :]: v for k, v in fields.items() if k.startswith(CUSTOM_PREFIX)}
        values: dict[str, Any] = dict(columns)
        if custom:
            # Bound as JSONB (encoded once by the driver): a string cast here was encoded twice and turned
            # the column into an array.
            values["custom_fields"] = leads.c.custom_fields.op("||")(
                sa.bindparam(None, custom, type_=leads.c.custom_fields.type)
            )
        if "email" in values and not values["email"]:
            del values["email"]  # a lead keeps its email: HubSpot clearing it is not followed
        if not values:
            continue
        values["updated_at"] = sa.func.now()
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.update(leads)
                    .where(leads.c.id == uuid.UUID(lead_id), leads.c.workspace_id == workspace_id)
                    .values(**values)
                )
        except sa.exc.IntegrityError:
            errors[lead_id] = (
                "another lead of this workspace already has that email; merge the two leads, then the sync retries"
            )
    return errors


def insert_leads(
    conn: sa.Connection, workspace_id: uuid.UUID, creates: list[tuple[str, dict[str, str]]]
) -> dict[str, str]:
    """Create leads for new HubSpot contacts; returns placeholder id -> new lead id (existing email: skipped)."""
    created: dict[str, str] = {}
    for placeholder, fields in creates:
        columns = {k: (v or None) for k, v in fields.items() if not k.startswith(CUSTOM_PREFIX)}
        custom = {k[len(CUSTOM_PREFIX) :]: v for k, v in fields.items() if k.startswith(CUSTOM_PREFIX) and v}
        if not columns.get("email"):
            continue
        row = conn.execute(
            insert(leads)
            .values(
                workspace_id=workspace_id,
                custom_fields=custom,
                **{
                    name: columns.get(name)
                    for name in ("email", "first_name", "last_name", "company", "title", "phone", "website")
                },
            )
            .on_conflict_do_nothing()
            .returning(sa.cast(leads.c.id, sa.Text))
        ).scalar_one_or_none()
        if row is not None:
            created[placeholder] = row
    return created


def soft_delete_leads(conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Sequence[str]) -> None:
    if lead_ids:
        conn.execute(
            sa.update(leads)
            .where(leads.c.workspace_id == workspace_id, leads.c.id.in_([uuid.UUID(i) for i in lead_ids]))
            .values(deleted_at=sa.func.now())
        )


def record_synced(
    conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]], mapping_set: MappingSet
) -> None:
    """Pairs whose writes all succeeded: agreed values, hash and HubSpot id; out of the retry index.

    Rows go in by COPY into a temporary table and one INSERT ... ON CONFLICT: a 50,000-pair run records its
    state in about a second, where multi-row VALUES statements took half a minute."""
    if not rows:
        return
    conn.execute(
        sa.text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS sync_state_in (entity_id uuid, hubspot_id text, sync_hash text, "
            "agreed jsonb) ON COMMIT DELETE ROWS"
        )
    )
    raw: Any = conn.connection.dbapi_connection
    with (
        raw.cursor() as cursor,
        cursor.copy("COPY sync_state_in (entity_id, hubspot_id, sync_hash, agreed) FROM STDIN") as copy,
    ):
        # Jsonb: encoded once by the connection's JSON dumps, the engine's (db/jsonb.py), as every JSONB bind.
        for r in rows:
            copy.write_row((r["lead_id"], r["hubspot_id"], r["sync_hash"], Jsonb(r["agreed"])))
    conn.execute(
        sa.text(
            "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, sync_hash, agreed, "
            "status, attempts, error_message, dead_at, last_synced_at) "
            f"SELECT :ws, '{ENTITY}', entity_id, hubspot_id, sync_hash, agreed, 'synced', 0, NULL, NULL, "
            "now() AT TIME ZONE 'UTC' FROM sync_state_in "
            "ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE SET hubspot_id = excluded.hubspot_id, "
            "sync_hash = excluded.sync_hash, agreed = excluded.agreed, status = 'synced', attempts = 0, "
            "error_message = NULL, dead_at = NULL, last_synced_at = excluded.last_synced_at, updated_at = now()"
        ),
        {"ws": workspace_id},
    )
    conn.execute(
        sa.text(
            f"INSERT INTO lead_digests (lead_id, workspace_id, digest) SELECT l.id, l.workspace_id, {digest_sql(mapping_set)} "
            "FROM leads l JOIN sync_state_in t ON t.entity_id = l.id "
            "ON CONFLICT (lead_id) DO UPDATE SET digest = excluded.digest"
        )
    )
    conn.execute(sa.text("DELETE FROM sync_state_in"))


def record_failed(conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    """Pairs with a failed write: into the retry index with the error, agreed values unchanged; dead after
    MAX_ATTEMPTS failures in a row."""
    if not rows:
        return
    conn.execute(
        sa.text("DELETE FROM lead_digests WHERE lead_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": [r["lead_id"] for r in rows]},
    )

    s = hubspot_sync_status
    statement = insert(s).values(
        [
            {
                "workspace_id": workspace_id,
                "entity_type": ENTITY,
                "entity_id": uuid.UUID(r["lead_id"]),
                "hubspot_id": r.get("hubspot_id"),
                "status": "error",
                "error_message": r["error"][:2000],
                "attempts": 1,
            }
            for r in rows
        ]
    )
    excluded = statement.excluded
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[s.c.workspace_id, s.c.entity_type, s.c.entity_id],
            set_={
                "hubspot_id": sa.func.coalesce(excluded.hubspot_id, s.c.hubspot_id),
                "status": "error",
                "error_message": excluded.error_message,
                "attempts": s.c.attempts + 1,
                "dead_at": sa.case((s.c.attempts + 1 >= MAX_ATTEMPTS, sa.func.now()), else_=None),
                "updated_at": sa.func.now(),
            },
        )
    )


def record_tombstones(conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    s = hubspot_sync_status
    for r in rows:
        conn.execute(
            sa.update(s)
            .where(
                s.c.workspace_id == workspace_id,
                s.c.entity_type == ENTITY,
                s.c.entity_id == uuid.UUID(r["lead_id"]),
            )
            .values(
                # JSONB bind parameters, encoded once: a json.dumps string cast to jsonb was encoded twice,
                # and the pair no longer read as ended.
                agreed=sa.func.coalesce(s.c.agreed, sa.bindparam(None, {}, type_=s.c.agreed.type)).op("||")(
                    sa.bindparam(None, {TOMBSTONE: r["reason"]}, type_=s.c.agreed.type)
                ),
                hubspot_id=r.get("hubspot_id"),
                status="synced",
                error_message=None,
                updated_at=sa.func.now(),
            )
        )


def forget_pairs(conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Sequence[str]) -> None:
    s = hubspot_sync_status
    if lead_ids:
        conn.execute(
            sa.delete(s).where(
                s.c.workspace_id == workspace_id,
                s.c.entity_type == ENTITY,
                s.c.entity_id.in_([uuid.UUID(i) for i in lead_ids]),
            )
        )


def record_conflicts(
    conn: sa.Connection, workspace_id: uuid.UUID, conflicts: pd.DataFrame, run_id: str | None
) -> None:
    if conflicts.empty:
        return
    rows = []
    for r in conflicts.to_dict("records"):
        lead_id = r["lead_id"]
        rows.append(
            {
                "workspace_id": workspace_id,
                "lead_id": uuid.UUID(lead_id)
                if lead_id and not str(lead_id).startswith(NEW_LEAD_PREFIX)
                else None,
                "hubspot_id": r["hubspot_id"],
                "field": r["field"],
                "coldcopy_value": r["coldcopy_value"],
                "hubspot_value": r["hubspot_value"],
                "coldcopy_changed_at": None
                if pd.isna(r["coldcopy_changed_at"])
                else r["coldcopy_changed_at"],
                "hubspot_changed_at": None if pd.isna(r["hubspot_changed_at"]) else r["hubspot_changed_at"],
                "policy": r["policy"],
                "winner": r["winner"],
                "resolved_value": r["resolved_value"],
                "run_id": run_id,
            }
        )
    conn.execute(sa.insert(sync_conflicts), rows)


def relink_pairs(conn: sa.Connection, workspace_id: uuid.UUID, relinks: dict[str, str]) -> None:
    """Pairs whose contact was merged into another: lead id -> the survivor they now hold."""
    s = hubspot_sync_status
    for lead_id, survivor in relinks.items():
        conn.execute(
            sa.update(s)
            .where(
                s.c.workspace_id == workspace_id,
                s.c.entity_type == ENTITY,
                s.c.entity_id == uuid.UUID(lead_id),
            )
            .values(hubspot_id=survivor)
        )
