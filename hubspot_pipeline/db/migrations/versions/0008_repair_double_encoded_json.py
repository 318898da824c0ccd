"""Repair JSON that issue #9's defects encoded twice, on databases that ran them.

- `leads.custom_fields`: a custom field pulled from HubSpot was appended as an encoded string, making the
  object an array (`[{"industry": "Media"}, "{\"industry\": \"Publishing\"}"]`). It becomes the object again,
  the pulled values merged in order (the last pull wins), so nothing is lost. The sync read such a lead's
  custom fields as empty and may have cleared them in HubSpot since: each repaired key gets an outbox row,
  dated when the lead was last written (its last pull), so the next run compares it with what HubSpot holds
  now and pushes it back unless HubSpot changed it later.
- `hubspot_sync_status.agreed`: a tombstone was appended the same way (`[{...}, "{\"_tombstone\": ...}"]`,
  or a JSON string); it becomes the agreed object with its tombstone, so the pair reads as ended again.

A value that does not decode to objects throughout is left as it was (and counted in a warning), never
guessed at. Downgrade leaves the repaired values: there is nothing to undo.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WRITER_SETTING = "hubspot_pipeline.writer"  # set: the outbox trigger skips these writes (rows added below)


def merged_object(value: Any) -> dict[str, Any] | None:
    """The object a twice-encoded value stood for: an object as is, a string decoded, an array's parts
    merged left to right (later keys win). None when some part is not an object."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return merged_object(decoded) if decoded != value else None
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for part in value:
            repaired = merged_object(part)
            if repaired is None:
                return None
            merged.update(repaired)
        return merged
    return None


def _repair(conn: sa.Connection, select: str, update: str) -> tuple[list[tuple[Any, dict]], int]:
    """Rows `select` returns as (key, value) with their value repaired by `update` (:key, :value)."""
    rows = conn.execute(sa.text(select)).all()
    repaired = [(row[0], merged_object(row[1])) for row in rows]
    fixed = [(key, value) for key, value in repaired if value is not None]
    statement = sa.text(update).bindparams(sa.bindparam("value", type_=JSONB))
    for key, value in fixed:
        conn.execute(statement, {"key": key, "value": value})
    return fixed, len(rows) - len(fixed)


def upgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("SELECT set_config(:name, 'migration_0008', true)"), {"name": WRITER_SETTING})
    leads, leads_left = _repair(
        conn,
        "SELECT id, custom_fields FROM leads WHERE jsonb_typeof(custom_fields) <> 'object'",
        "UPDATE leads SET custom_fields = :value WHERE id = :key",
    )
    outbox = sa.text(
        "INSERT INTO lead_changes (workspace_id, lead_id, operation, changed_fields, changed_at) "
        "SELECT workspace_id, id, 'update', :fields, updated_at FROM leads WHERE id = :key"
    ).bindparams(sa.bindparam("fields", type_=ARRAY(sa.Text)))
    for lead_id, value in leads:
        if value:
            conn.execute(outbox, {"key": lead_id, "fields": sorted("custom_fields." + k for k in value)})
    _, agreed_left = _repair(
        conn,
        "SELECT id, agreed FROM hubspot_sync_status WHERE jsonb_typeof(agreed) <> 'object'",
        "UPDATE hubspot_sync_status SET agreed = :value, updated_at = now() WHERE id = :key",
    )
    if leads_left or agreed_left:
        logging.getLogger("alembic.runtime.migration").warning(
            "0008 left %d leads.custom_fields and %d hubspot_sync_status.agreed values as they were: they do "
            "not decode to JSON objects throughout; look at them by hand (jsonb_typeof(...) <> 'object')",
            leads_left,
            agreed_left,
        )


def downgrade() -> None:
    pass  # the repaired values are what the columns should always have held
