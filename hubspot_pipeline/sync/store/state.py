"""Pair state (`hubspot_sync_status`, entity_type `contact`): the HubSpot id, agreed values and hash of
each lead's pair, and the retry index (status `error`, not dead)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from hubspot_pipeline.db.tables import hubspot_sync_status
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, STATE_COLUMNS

ENTITY = "contact"


MAX_ATTEMPTS = 8  # a row failing this many runs in a row is marked dead for a human to look at


STATE_BATCH = 20_000  # ids per state query


def read_state(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    lead_ids: Iterable[str] = (),
    hubspot_ids: Iterable[str] = (),
    entity: str = ENTITY,
) -> pd.DataFrame:
    """Pair state by lead id or HubSpot id, index lead id, columns STATE_COLUMNS + attempts. entity
    `company`: companies' pairs, by company id."""
    s = hubspot_sync_status
    leads_wanted = sorted({i for i in lead_ids if not str(i).startswith(NEW_LEAD_PREFIX)})
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
            s.c.entity_type == entity,
            sa.or_(
                s.c.entity_id == sa.any_(sa.cast(some_leads, ARRAY(UUID))),
                s.c.hubspot_id == sa.any_(sa.cast(some_contacts, ARRAY(sa.Text))),
            ),
        )
        rows.extend(conn.execute(query).all())
    # dtype=object keeps None as None: an inferred string column turns a NULL agreed (a pair that never
    # succeeded) into NaN as soon as another row has one, and decoding it failed the run.
    # Plain tuples, not Rows: pandas' named-tuple probe costs a failed key lookup per Row (leads.read_leads).
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["lead_id", *STATE_COLUMNS, "attempts"], dtype=object
    )
    frame["agreed"] = [orjson.loads(a) if a is not None else None for a in frame["agreed"]]
    frame = frame.drop_duplicates("lead_id")
    return frame.set_index("lead_id")


def retry_lead_ids(
    conn: sa.Connection, workspace_id: uuid.UUID, limit: int = 50_000, entity: str = ENTITY
) -> list[str]:
    s = hubspot_sync_status
    rows = conn.execute(
        sa.select(sa.cast(s.c.entity_id, sa.Text))
        .where(
            s.c.workspace_id == workspace_id,
            s.c.entity_type == entity,
            s.c.status == "error",
            s.c.dead_at.is_(None),
        )
        .limit(limit)
    )
    return list(rows.scalars())
