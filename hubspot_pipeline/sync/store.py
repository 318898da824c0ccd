"""The sync's reads and writes in PostgreSQL: leads, the lead outbox, the retry index, per-pair state,
conflicts and cursors. SQL only; the plan (plan.py) decides, the engine (engine.py) sequences.

Lead writes run under `sync_writer`, so the outbox trigger does not record them (no echo back to HubSpot).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from hubspot_pipeline.db.tables import (
    hubspot_field_mappings,
    hubspot_sync_config,
    hubspot_sync_status,
    lead_changes,
    leads,
    sync_conflicts,
    sync_cursors,
    webhook_events,
)
from hubspot_pipeline.sync.mapping import CUSTOM_PREFIX, LEAD_FIELDS, MappingSet
from hubspot_pipeline.sync.plan import ROW_TIME, STATE_COLUMNS, TOMBSTONE

ENTITY = "contact"
MAX_ATTEMPTS = 8  # a row failing this many runs in a row is marked dead for a human to look at
OUTBOX_STREAM = "lead_outbox"
SEARCH_STREAM = "hubspot_contacts_search"
WEBHOOK_STREAM = "hubspot_webhooks"
STATE_BATCH = 20_000  # ids per state query


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


def custom_keys(mapping_set: MappingSet) -> list[str]:
    keys = {
        s[len(CUSTOM_PREFIX) :]
        for m in mapping_set.mappings
        for s in m.mapping.sources
        if s.startswith(CUSTOM_PREFIX)
    }
    return sorted(keys)


def _lead_columns(keys: Sequence[str]) -> str:
    customs = ", ".join(f"l.custom_fields->>{_literal(k)} AS {_ident(CUSTOM_PREFIX + k)}" for k in keys)
    base = "l.id::text AS id, " + ", ".join(f"l.{name}" for name in LEAD_FIELDS)
    return base + (", " + customs if customs else "") + ", l.deleted_at IS NOT NULL AS deleted"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def digest_sql(mapping_set: MappingSet) -> str:
    """SQL for the digest of a lead (alias `l`): md5 over the mappings themselves and every raw lead field
    they read, so a change of either changes it."""
    signature = json.dumps(
        [
            [m.mapping.coldcopy_field, m.column, m.mapping.direction, m.mapping.transform_function]
            for m in mapping_set.mappings
        ]
    )
    fields = sorted({f for m in mapping_set.mappings for f in m.mapping.sources})
    parts = [
        f"coalesce(l.custom_fields->>{_literal(f[len(CUSTOM_PREFIX) :])}, '')"
        if f.startswith(CUSTOM_PREFIX)
        else f"coalesce(l.{f}, '')"
        for f in fields
    ]
    return f"md5(concat_ws(chr(31), {_literal(signature)}, (l.deleted_at IS NULL)::text, {', '.join(parts)}))"


def read_leads(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    mapping_set: MappingSet,
    *,
    ids: Iterable[str] = (),
    emails: Iterable[str] = (),
) -> pd.DataFrame:
    """Leads by id or (lowercased) email, deleted ones included (column `deleted`)."""
    id_list, email_list = sorted(set(ids)), sorted({e.lower() for e in emails if e})
    sql = (
        f"SELECT {_lead_columns(custom_keys(mapping_set))} FROM leads l WHERE l.workspace_id = :ws "
        "AND (l.id = ANY(CAST(:ids AS uuid[])) OR lower(l.email) = ANY(CAST(:emails AS text[])))"
    )
    result = conn.execute(sa.text(sql), {"ws": workspace_id, "ids": id_list, "emails": email_list})
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    return _tidy_leads(frame, mapping_set)


def _tidy_leads(frame: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    columns = ["id", *LEAD_FIELDS, *(CUSTOM_PREFIX + k for k in custom_keys(mapping_set)), "deleted"]
    if frame.empty:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        empty["deleted"] = empty["deleted"].astype(bool)
        return empty
    for column in columns[:-1]:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    frame["deleted"] = frame["deleted"].astype(bool)
    return frame


def scan_leads(
    conn: sa.Connection, workspace_id: uuid.UUID, mapping_set: MappingSet, chunk_rows: int = 100_000
) -> Iterator[pd.DataFrame]:
    """Every lead of the workspace with its pair state (pair_status, pair_hash64: the agreed hash as a signed
    64-bit integer, 0 when none; tombstoned), streamed with COPY in chunks: the full resync reads a million
    leads this way in bounded memory."""
    select = (
        f"SELECT {_lead_columns(custom_keys(mapping_set))}, s.status AS pair_status, "
        "coalesce(('x' || s.sync_hash)::bit(64)::bigint, 0) AS pair_hash64, "
        f"coalesce(s.agreed ? '{TOMBSTONE}', false) AS tombstoned FROM leads l LEFT JOIN hubspot_sync_status s "
        f"ON s.workspace_id = l.workspace_id AND s.entity_type = '{ENTITY}' AND s.entity_id = l.id "
        "LEFT JOIN lead_digests d ON d.lead_id = l.id "
        f"WHERE l.workspace_id = {_literal(str(workspace_id))} "
        f"AND NOT coalesce(s.agreed ? '{TOMBSTONE}', false) "
        f"AND (s.status IS DISTINCT FROM 'synced' OR d.digest IS DISTINCT FROM {digest_sql(mapping_set)})"
    )
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY streams the rows
    assert raw is not None
    buffer = io.BytesIO()
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
    ):
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    reader = pd.read_csv(buffer, dtype=object, keep_default_na=False, chunksize=chunk_rows)
    for chunk in reader:
        frame = chunk
        frame["deleted"] = frame["deleted"].eq("t")
        frame["tombstoned"] = frame["tombstoned"].eq("t")
        frame["pair_hash64"] = chunk["pair_hash64"].astype("int64")
        yield frame


def read_state(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    lead_ids: Iterable[str] = (),
    hubspot_ids: Iterable[str] = (),
) -> pd.DataFrame:
    """Pair state by lead id or HubSpot id, index lead id, columns STATE_COLUMNS + attempts."""
    s = hubspot_sync_status
    leads_wanted = sorted({i for i in lead_ids if not str(i).startswith("new:")})
    contacts_wanted = sorted(set(hubspot_ids))
    rows: list[dict[str, Any]] = []
    for start in range(0, max(len(leads_wanted), len(contacts_wanted), 1), STATE_BATCH):
        some_leads = [uuid.UUID(i) for i in leads_wanted[start : start + STATE_BATCH]]
        some_contacts = contacts_wanted[start : start + STATE_BATCH]
        if not some_leads and not some_contacts:
            break
        query = sa.select(
            sa.cast(s.c.entity_id, sa.Text).label("lead_id"),
            s.c.hubspot_id,
            s.c.sync_hash,
            s.c.agreed,
            s.c.status,
            s.c.attempts,
        ).where(
            s.c.workspace_id == workspace_id,
            s.c.entity_type == ENTITY,
            sa.or_(
                s.c.entity_id == sa.any_(sa.cast(some_leads, ARRAY(UUID))),
                s.c.hubspot_id == sa.any_(sa.cast(some_contacts, ARRAY(sa.Text))),
            ),
        )
        rows.extend(dict(r) for r in conn.execute(query).mappings())
    frame = pd.DataFrame(rows, columns=["lead_id", *STATE_COLUMNS, "attempts"], dtype=object)
    frame = frame.drop_duplicates("lead_id")
    return frame.set_index("lead_id")


def retry_lead_ids(conn: sa.Connection, workspace_id: uuid.UUID, limit: int = 50_000) -> list[str]:
    s = hubspot_sync_status
    rows = conn.execute(
        sa.select(sa.cast(s.c.entity_id, sa.Text))
        .where(
            s.c.workspace_id == workspace_id,
            s.c.entity_type == ENTITY,
            s.c.status == "error",
            s.c.dead_at.is_(None),
        )
        .limit(limit)
    )
    return list(rows.scalars())


@dataclass
class OutboxBatch:
    lead_ids: list[str]
    deleted: list[str]
    times: pd.DataFrame  # index lead id, columns lead field names and ROW_TIME
    up_to_id: int


def read_outbox(
    conn: sa.Connection, workspace_id: uuid.UUID, after_id: int, limit: int = 200_000
) -> OutboxBatch:
    """Outbox rows after `after_id`: which leads changed, which were deleted, and when each field changed."""
    rows = conn.execute(
        sa.select(
            lead_changes.c.id,
            sa.cast(lead_changes.c.lead_id, sa.Text).label("lead_id"),
            lead_changes.c.operation,
            lead_changes.c.changed_fields,
            lead_changes.c.changed_at,
        )
        .where(lead_changes.c.workspace_id == workspace_id, lead_changes.c.id > after_id)
        .order_by(lead_changes.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return OutboxBatch([], [], pd.DataFrame(), after_id)
    frame = pd.DataFrame(rows, columns=["id", "lead_id", "operation", "changed_fields", "changed_at"])
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    last_op = frame.groupby("lead_id")["operation"].last()
    deleted = sorted(last_op[last_op == "delete"].index)
    fields = frame.assign(field=frame["changed_fields"].map(lambda f: list(f) if f else [ROW_TIME]))
    fields = fields.explode("field")
    times = fields.groupby(["lead_id", "field"], sort=False)["changed_at"].max().unstack("field")
    return OutboxBatch(sorted(set(frame["lead_id"])), deleted, times, int(frame["id"].max()))


def field_times_to_columns(times: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    """Per-lead-field change times turned into per-canonical-column times (latest of a column's sources)."""
    if times.empty:
        return times
    out = pd.DataFrame(index=times.index)
    for compiled in mapping_set.mappings:
        sources = [s for s in compiled.mapping.sources if s in times]
        if sources:
            out[compiled.column] = times[sources].max(axis=1)
    if ROW_TIME in times:
        out[ROW_TIME] = times[ROW_TIME]
    return out


# --- cursors and queues -------------------------------------------------------------------------------


def get_cursor(conn: sa.Connection, workspace_id: uuid.UUID, stream: str) -> Any:
    return conn.execute(
        sa.select(sync_cursors.c.cursor).where(
            sync_cursors.c.workspace_id == workspace_id, sync_cursors.c.stream == stream
        )
    ).scalar_one_or_none()


def set_cursor(conn: sa.Connection, workspace_id: uuid.UUID, stream: str, value: Any) -> None:
    from sqlalchemy.dialects.postgresql import insert

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


# --- writes ---------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # hubspot_sync_status keeps the seed's naive UTC times


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
            values["custom_fields"] = leads.c.custom_fields.op("||")(
                sa.cast(json.dumps(custom), leads.c.custom_fields.type)
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
            sa.text(
                "INSERT INTO leads (workspace_id, email, first_name, last_name, company, title, phone, website, "
                "custom_fields) VALUES (:ws, :email, :first_name, :last_name, :company, :title, :phone, :website, "
                "CAST(:custom AS jsonb)) ON CONFLICT DO NOTHING RETURNING id::text"
            ),
            {
                "ws": workspace_id,
                "custom": json.dumps(custom),
                **{
                    name: columns.get(name)
                    for name in ("email", "first_name", "last_name", "company", "title", "phone", "website")
                },
            },
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


def count_leads(conn: sa.Connection, workspace_id: uuid.UUID) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).where(leads.c.workspace_id == workspace_id)).scalar_one()
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
        for r in rows:
            copy.write_row((r["lead_id"], r["hubspot_id"], r["sync_hash"], json.dumps(r["agreed"])))
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
    from sqlalchemy.dialects.postgresql import insert

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
                agreed=sa.func.coalesce(s.c.agreed, sa.cast("{}", s.c.agreed.type)).op("||")(
                    sa.cast(json.dumps({TOMBSTONE: r["reason"]}), s.c.agreed.type)
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
                "lead_id": uuid.UUID(lead_id) if lead_id and not str(lead_id).startswith("new:") else None,
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
