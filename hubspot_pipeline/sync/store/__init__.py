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
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from hubspot_pipeline.db.tables import (
    hubspot_field_mappings,
    hubspot_sync_config,
    hubspot_sync_status,
    leads,
    sync_cursors,
    webhook_events,
)
from hubspot_pipeline.sync.core.mapping import CUSTOM_PREFIX, ENGAGEMENT_FIELDS, LEAD_FIELDS, MappingSet
from hubspot_pipeline.sync.core.plan import ROW_TIME, STATE_COLUMNS, TOMBSTONE

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


def engagement_fields(mapping_set: MappingSet) -> list[str]:
    """The engagement fields (`engagement.<field>`) the mappings read."""
    return sorted({s for m in mapping_set.mappings for s in m.mapping.sources if s in ENGAGEMENT_FIELDS})


def engagement_sql(field: str) -> str:
    """A lead's (alias `l`) published engagement field as text, NULL when it has none: times in ISO 8601 UTC."""
    column = field.removeprefix("engagement.")
    value = (
        f"to_char(le.{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        if column == "last_engaged_at"
        else f"le.{column}::text"
    )
    return f"(SELECT {value} FROM lead_engagement le WHERE le.lead_id = l.id)"


def _lead_columns(keys: Sequence[str], engagement: Sequence[str] = ()) -> str:
    customs = ", ".join(f"l.custom_fields->>{_literal(k)} AS {_ident(CUSTOM_PREFIX + k)}" for k in keys)
    customs += "".join(f", {engagement_sql(f)} AS {_ident(f)}" for f in engagement)
    base = "l.id::text AS id, " + ", ".join(f"l.{name}" for name in LEAD_FIELDS)
    return base + (", " + customs.lstrip(", ") if customs else "") + ", l.deleted_at IS NOT NULL AS deleted"


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
        else f"coalesce({engagement_sql(f)}, '')"
        if f in ENGAGEMENT_FIELDS
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
        f"SELECT {_lead_columns(custom_keys(mapping_set), engagement_fields(mapping_set))} FROM leads l WHERE l.workspace_id = :ws "
        "AND (l.id = ANY(CAST(:ids AS uuid[])) OR lower(l.email) = ANY(CAST(:emails AS text[])))"
    )
    result = conn.execute(sa.text(sql), {"ws": workspace_id, "ids": id_list, "emails": email_list})
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    return _tidy_leads(frame, mapping_set)


def _tidy_leads(frame: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    columns = [
        "id",
        *LEAD_FIELDS,
        *(CUSTOM_PREFIX + k for k in custom_keys(mapping_set)),
        *engagement_fields(mapping_set),
        "deleted",
    ]
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
        f"SELECT {_lead_columns(custom_keys(mapping_set), engagement_fields(mapping_set))}, "
        "s.status AS pair_status, "
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
    rows: list[Any] = []
    for start in range(0, max(len(leads_wanted), len(contacts_wanted), 1), STATE_BATCH):
        some_leads = [uuid.UUID(i) for i in leads_wanted[start : start + STATE_BATCH]]
        some_contacts = contacts_wanted[start : start + STATE_BATCH]
        if not some_leads and not some_contacts:
            break
        query = sa.select(
            sa.cast(s.c.entity_id, sa.Text).label("lead_id"),
            s.c.hubspot_id,
            s.c.sync_hash,
            sa.cast(s.c.agreed, sa.Text).label("agreed"),  # decoded below with orjson: 3x faster
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
        rows.extend(conn.execute(query).all())
    # dtype=object keeps None as None: an inferred string column turns a NULL agreed (a pair that never
    # succeeded) into NaN as soon as another row has one, and decoding it failed the run.
    frame = pd.DataFrame(rows, columns=["lead_id", *STATE_COLUMNS, "attempts"], dtype=object)
    frame["agreed"] = [orjson.loads(a) if a is not None else None for a in frame["agreed"]]
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
    """Outbox rows after `after_id` (at most `limit`): which leads changed, which were deleted, and when each
    field last changed. PostgreSQL aggregates, so 50,000 rows come back as one narrow row per lead and field."""
    rows = conn.execute(
        sa.text(
            "WITH batch AS (SELECT id, lead_id, operation, changed_fields, changed_at FROM lead_changes "
            "WHERE workspace_id = :ws AND id > :after ORDER BY id LIMIT :limit) "
            "SELECT lead_id::text, field, max(changed_at), max(id), "
            "(array_agg(operation ORDER BY id DESC))[1] FROM batch, "
            f"unnest(coalesce(changed_fields, ARRAY['{ROW_TIME}'])) AS field GROUP BY lead_id, field"
        ),
        {"ws": workspace_id, "after": after_id, "limit": limit},
    ).all()
    if not rows:
        return OutboxBatch([], [], pd.DataFrame(), after_id)
    frame = pd.DataFrame.from_records(rows, columns=["lead_id", "field", "changed_at", "id", "operation"])
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    last = frame.sort_values("id").groupby("lead_id")["operation"].last()
    deleted = sorted(last[last == "delete"].index)
    times = frame.pivot(index="lead_id", columns="field", values="changed_at")
    return OutboxBatch(sorted(last.index), deleted, times, int(frame["id"].max()))


def newest_field_times(conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Sequence[str]) -> pd.DataFrame:
    """When each field of these leads last changed, from all their outbox rows, the ones before the cursor
    too: a retried pair's ColdCopy edits keep their times after the run that read them. Index lead id,
    columns lead fields (and ROW_TIME for inserts), like OutboxBatch.times."""
    rows = conn.execute(
        sa.text(
            "SELECT lead_id::text, field, max(changed_at) FROM lead_changes, "
            f"unnest(coalesce(changed_fields, ARRAY['{ROW_TIME}'])) AS field "
            "WHERE workspace_id = :ws AND lead_id = ANY(CAST(:ids AS uuid[])) GROUP BY lead_id, field"
        ),
        {"ws": workspace_id, "ids": sorted(set(lead_ids))},
    ).all()
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(rows, columns=["lead_id", "field", "changed_at"])
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame.pivot(index="lead_id", columns="field", values="changed_at")


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


def cursor_age_seconds(conn: sa.Connection, workspace_id: uuid.UUID, stream: str) -> float | None:
    """Seconds since the cursor was last written (a run read that stream up to date), None if never."""
    age = conn.execute(
        sa.select(sa.func.extract("epoch", sa.func.now() - sync_cursors.c.updated_at)).where(
            sync_cursors.c.workspace_id == workspace_id, sync_cursors.c.stream == stream
        )
    ).scalar_one_or_none()
    return float(age) if age is not None else None


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


def count_leads(conn: sa.Connection, workspace_id: uuid.UUID) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).where(leads.c.workspace_id == workspace_id)).scalar_one()
    )
