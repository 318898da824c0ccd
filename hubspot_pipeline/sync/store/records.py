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
from sqlalchemy.dialects.postgresql import JSONB

from hubspot_pipeline.db.tables import (
    hubspot_sync_status,
    leads,
    sync_conflicts,
)
from hubspot_pipeline.db.tables.coldcopy import LEAD_STATUSES
from hubspot_pipeline.sync.core.mapping import CUSTOM_PREFIX, MappingSet
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, TOMBSTONE
from hubspot_pipeline.sync.store.leads import digest_sql, engagement_join
from hubspot_pipeline.sync.store.state import ENTITY, MAX_ATTEMPTS

UPDATE_PAGE = 5_000  # pulled leads per set-based statement: one JSONB parameter of a few MB at most
TEXT_COLUMNS = ("first_name", "last_name", "company", "title", "phone", "website", "status")
EMAIL_TAKEN = (
    "lead {lead_id}: another lead of this workspace already has the email {email!r} that HubSpot holds for "
    "this contact; merge the two leads (or correct the email on one side), then the sync retries"
)
BAD_STATUS = (
    "lead {lead_id}: HubSpot's value {value!r} is not a ColdCopy lead status ({known}); map it with a "
    "transform or correct it in HubSpot, then the sync retries"
)

# Rows whose email does not change, all in one statement: a column is set only for the rows that carry it
# (`t.f ? 'title'`), custom fields are merged key by key. PostgreSQL unpacks the rows itself.
_SET_COLUMN = "{c} = CASE WHEN t.f ? '{c}' THEN t.f ->> '{c}' ELSE l.{c} END"
_UPDATE_MANY = (
    "UPDATE leads AS l SET {sets}custom_fields = l.custom_fields || t.custom, updated_at = now() "
    "FROM jsonb_to_recordset(:rows) AS t(id uuid, f jsonb, custom jsonb) "
    "WHERE l.id = t.id AND l.workspace_id = :ws"
)


def _lead_update_rows(
    updates: list[tuple[str, dict[str, str]]],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The pulled values per lead as {id, f (columns), custom}, one row per lead (a lead named twice takes its
    later values), and the leads refused before any write (a status ColdCopy does not know)."""
    merged: dict[str, dict[str, Any]] = {}
    refused: dict[str, str] = {}
    for lead_id, fields in updates:
        row = merged.setdefault(lead_id, {"id": lead_id, "f": {}, "custom": {}})
        for key, value in fields.items():
            if key.startswith(CUSTOM_PREFIX):
                row["custom"][key[len(CUSTOM_PREFIX) :]] = value
            elif key == "email":
                if value:  # a lead keeps its email: HubSpot clearing it is not followed
                    row["f"]["email"] = value
            else:
                row["f"][key] = value or None
        status = row["f"].get("status")
        if status is not None and status not in LEAD_STATUSES:
            refused[lead_id] = BAD_STATUS.format(
                lead_id=lead_id, value=status, known=", ".join(LEAD_STATUSES)
            )
    rows = [r for r in merged.values() if (r["f"] or r["custom"]) and r["id"] not in refused]
    return rows, refused


def apply_lead_updates(
    conn: sa.Connection, workspace_id: uuid.UUID, updates: list[tuple[str, dict[str, str]]]
) -> dict[str, str]:
    """Update leads with values from HubSpot; returns lead id -> error for rows that could not be written.

    Set-based: the leads whose email stays go in one UPDATE per page of UPDATE_PAGE; only a lead whose email
    changes runs on its own, inside a savepoint, because another lead of the workspace may hold that email
    (the unique index refuses it, and that lead alone fails). A page that is refused whole (a constraint no
    check here foresaw) is written again row by row, so the refusal names its lead."""
    rows, errors = _lead_update_rows(updates)
    steady = [r for r in rows if "email" not in r["f"]]
    for start in range(0, len(steady), UPDATE_PAGE):
        page = steady[start : start + UPDATE_PAGE]
        try:
            with conn.begin_nested():
                _update_many(conn, workspace_id, page)
        except sa.exc.IntegrityError:
            errors.update(_update_each(conn, workspace_id, page))
    errors.update(_update_each(conn, workspace_id, [r for r in rows if "email" in r["f"]]))
    return errors


def _update_many(conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    columns = [c for c in TEXT_COLUMNS if any(c in r["f"] for r in rows)]
    sets = "".join(_SET_COLUMN.format(c=c) + ", " for c in columns)
    conn.execute(
        sa.text(_UPDATE_MANY.format(sets=sets)).bindparams(sa.bindparam("rows", type_=JSONB)),
        {"rows": rows, "ws": workspace_id},
    )


def _update_each(conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]]) -> dict[str, str]:
    """One UPDATE per lead, each in its own savepoint: a refused lead fails alone, named."""
    errors: dict[str, str] = {}
    for row in rows:
        values: dict[str, Any] = dict(row["f"])
        if row["custom"]:
            # Bound as JSONB (encoded once by the driver): a string cast here was encoded twice and turned
            # the column into an array.
            values["custom_fields"] = leads.c.custom_fields.op("||")(
                sa.bindparam(None, row["custom"], type_=leads.c.custom_fields.type)
            )
        values["updated_at"] = sa.func.now()
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.update(leads)
                    .where(leads.c.id == uuid.UUID(row["id"]), leads.c.workspace_id == workspace_id)
                    .values(**values)
                )
        except sa.exc.IntegrityError as error:
            if "email" in row["f"] and "leads_workspace_email_key" in str(error.orig):
                errors[row["id"]] = EMAIL_TAKEN.format(lead_id=row["id"], email=row["f"]["email"])
            else:
                errors[row["id"]] = (
                    f"lead {row['id']}: PostgreSQL refused the values HubSpot holds for it "
                    f"({type(error.orig).__name__}); correct them in HubSpot, then the sync retries"
                )
    return errors


NEW_LEAD_COLUMNS = ("email", "first_name", "last_name", "company", "title", "phone", "website")
# New leads in one statement, in the plan's order: of two contacts with one email (whatever its case) the
# first becomes the lead, the second is skipped by the unique index, as is an email a lead already has.
_INSERT_MANY = sa.text(
    f"INSERT INTO leads (workspace_id, {', '.join(NEW_LEAD_COLUMNS)}, custom_fields) "
    f"SELECT :ws, {', '.join('t.' + c for c in NEW_LEAD_COLUMNS)}, t.custom "
    f"FROM jsonb_to_recordset(:rows) AS t(n int, {', '.join(c + ' text' for c in NEW_LEAD_COLUMNS)}, custom jsonb) "
    "ORDER BY t.n ON CONFLICT DO NOTHING RETURNING id::text, email"
).bindparams(sa.bindparam("rows", type_=JSONB))


def insert_leads(
    conn: sa.Connection, workspace_id: uuid.UUID, creates: list[tuple[str, dict[str, str]]]
) -> dict[str, str]:
    """Create leads for new HubSpot contacts; returns placeholder id -> new lead id (existing email: skipped)."""
    rows: list[dict[str, Any]] = []
    placeholders: dict[str, str] = {}  # email -> the first placeholder that carries it
    for placeholder, fields in creates:
        email = fields.get("email") or None
        if not email:
            continue
        placeholders.setdefault(email, placeholder)
        row: dict[str, Any] = {c: fields.get(c) or None for c in NEW_LEAD_COLUMNS}
        row["n"] = len(rows)
        row["custom"] = {
            k[len(CUSTOM_PREFIX) :]: v for k, v in fields.items() if k.startswith(CUSTOM_PREFIX) and v
        }
        rows.append(row)
    created: dict[str, str] = {}
    for start in range(0, len(rows), UPDATE_PAGE):
        page = rows[start : start + UPDATE_PAGE]
        for lead_id, email in conn.execute(_INSERT_MANY, {"rows": page, "ws": workspace_id}):
            created[placeholders[email]] = lead_id
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
            f"FROM leads l JOIN sync_state_in t ON t.entity_id = l.id{engagement_join(mapping_set)} "
            "ON CONFLICT (lead_id) DO UPDATE SET digest = excluded.digest"
        )
    )
    conn.execute(sa.text("DELETE FROM sync_state_in"))


def record_failed(
    conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]], entity: str = ENTITY
) -> None:
    """Pairs with a failed write: into the retry index with the error, agreed values unchanged; dead after
    MAX_ATTEMPTS failures in a row. entity `company`: companies' pairs (by company id)."""
    if not rows:
        return
    if entity == ENTITY:
        conn.execute(
            sa.text("DELETE FROM lead_digests WHERE lead_id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [r["lead_id"] for r in rows]},
        )

    conn.execute(
        _RECORD_FAILED,
        {
            "ws": workspace_id,
            "entity": entity,
            "max": MAX_ATTEMPTS,
            "rows": [
                {"id": r["lead_id"], "hubspot_id": r.get("hubspot_id"), "error": r["error"][:2000]}
                for r in rows
            ],
        },
    )


# One statement per call, whatever the number of pairs: PostgreSQL unpacks the rows (a multi-row VALUES list
# costs SQLAlchemy about a quarter of a millisecond per row to compile). A pair named twice counts once.
_RECORD_FAILED = sa.text(
    "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, status, error_message, "
    "attempts) SELECT DISTINCT ON (t.id) :ws, :entity, t.id, t.hubspot_id, 'error', t.error, 1 "
    "FROM jsonb_to_recordset(:rows) AS t(id uuid, hubspot_id text, error text) "
    "ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE SET "
    "hubspot_id = coalesce(excluded.hubspot_id, hubspot_sync_status.hubspot_id), status = 'error', "
    "error_message = excluded.error_message, attempts = hubspot_sync_status.attempts + 1, "
    "dead_at = CASE WHEN hubspot_sync_status.attempts + 1 >= :max THEN now() END, updated_at = now()"
).bindparams(sa.bindparam("rows", type_=JSONB))

# The tombstone joins the last agreed values (JSONB bound once: a json.dumps string cast to jsonb was
# encoded twice, and the pair no longer read as ended).
_RECORD_TOMBSTONES = sa.text(
    "UPDATE hubspot_sync_status AS s SET agreed = coalesce(s.agreed, '{}'::jsonb) || "
    f"jsonb_build_object('{TOMBSTONE}', t.reason), hubspot_id = t.hubspot_id, status = 'synced', "
    "error_message = NULL, updated_at = now() "
    "FROM jsonb_to_recordset(:rows) AS t(lead_id uuid, hubspot_id text, reason jsonb) "
    "WHERE s.workspace_id = :ws AND s.entity_type = :entity AND s.entity_id = t.lead_id"
).bindparams(sa.bindparam("rows", type_=JSONB))

_RELINK = sa.text(
    "UPDATE hubspot_sync_status AS s SET hubspot_id = t.hubspot_id "
    "FROM jsonb_to_recordset(:rows) AS t(lead_id uuid, hubspot_id text) "
    "WHERE s.workspace_id = :ws AND s.entity_type = :entity AND s.entity_id = t.lead_id"
).bindparams(sa.bindparam("rows", type_=JSONB))


def record_tombstones(
    conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]], entity: str = ENTITY
) -> None:
    """Ended pairs: the reason as a tombstone next to their agreed values, in one statement."""
    if rows:
        conn.execute(
            _RECORD_TOMBSTONES,
            {
                "ws": workspace_id,
                "entity": entity,
                "rows": [
                    {"lead_id": r["lead_id"], "hubspot_id": r.get("hubspot_id"), "reason": r["reason"]}
                    for r in rows
                ],
            },
        )


def relink_pairs(
    conn: sa.Connection, workspace_id: uuid.UUID, survivors: dict[str, str], entity: str = ENTITY
) -> None:
    """Pairs whose contact was merged into another: they point at the survivor (lead id -> its id)."""
    if survivors:
        conn.execute(
            _RELINK,
            {
                "ws": workspace_id,
                "entity": entity,
                "rows": [{"lead_id": k, "hubspot_id": v} for k, v in survivors.items()],
            },
        )


def forget_pairs(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Sequence[str], entity: str = ENTITY
) -> None:
    s = hubspot_sync_status
    if lead_ids:
        conn.execute(
            sa.delete(s).where(
                s.c.workspace_id == workspace_id,
                s.c.entity_type == entity,
                s.c.entity_id.in_([uuid.UUID(i) for i in lead_ids]),
            )
        )


def record_conflicts(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    conflicts: pd.DataFrame,
    run_id: str | None,
    object_type: str = ENTITY,
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
                "object_type": object_type,
            }
        )
    conn.execute(sa.insert(sync_conflicts), rows)
