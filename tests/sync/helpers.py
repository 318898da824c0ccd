"""Builders for the pure sync tests: leads, contacts and state from plain dicts."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hubspot_pipeline.sync.core.hashing import hash_agreed
from hubspot_pipeline.sync.core.leads import Leads
from hubspot_pipeline.sync.core.mapping import LEAD_FIELDS, MappingSet, canonical_contacts
from hubspot_pipeline.sync.core.markers import ROW_TIME, STATE_COLUMNS


def lead_rows(leads: Mapping[str, Mapping[str, object]]) -> pd.DataFrame:
    rows = []
    for lead_id, values in leads.items():
        row: dict[str, object] = {name: None for name in LEAD_FIELDS}
        row.update({"id": lead_id, "custom_fields": {}, "status": "new"})
        row.update(values)
        rows.append(row)
    return pd.DataFrame(rows, columns=["id", *LEAD_FIELDS, "custom_fields"])


def canon_leads(leads: Mapping[str, Mapping[str, object]], mapping_set: MappingSet) -> pd.DataFrame:
    return Leads.of(lead_rows(leads), mapping_set).canonical


def canon_contacts(contacts: Mapping[str, Mapping[str, object]], mapping_set: MappingSet) -> pd.DataFrame:
    frame = pd.DataFrame([{"id": cid, **props} for cid, props in contacts.items()])
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series([], dtype=object), "email": pd.Series([], dtype=object)})
    return canonical_contacts(frame, mapping_set)


def state_frame(rows: Mapping[str, Mapping[str, object]], mapping_set: MappingSet) -> pd.DataFrame:
    """rows: lead_id -> {hubspot_id, agreed, status}; sync_hash is computed from agreed unless given."""
    records = []
    for lead_id, row in rows.items():
        agreed = row.get("agreed")
        full = {c: "" for c in mapping_set.columns} | dict(agreed) if isinstance(agreed, Mapping) else agreed
        sync_hash = row.get("sync_hash", hash_agreed([full], mapping_set.pushed_columns)[0])
        records.append(
            {
                "lead_id": lead_id,
                "hubspot_id": row.get("hubspot_id"),
                "sync_hash": sync_hash,
                "agreed": full,
                "status": row.get("status", "synced"),
            }
        )
    frame = pd.DataFrame(records, columns=["lead_id", *STATE_COLUMNS])
    return frame.set_index("lead_id")


def times(rows: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """id -> {column or '*': ISO time}."""
    frame = pd.DataFrame.from_dict({k: dict(v) for k, v in rows.items()}, orient="index")
    for column in frame:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    if ROW_TIME not in frame:
        frame[ROW_TIME] = pd.NaT
    return frame
