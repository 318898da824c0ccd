"""The rows a plan writes: contact properties to push, lead fields to pull, and the agreed values and hash
to record once a pair's writes succeed. Pure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.hashing import hash_frame
from hubspot_pipeline.sync.core.mapping import MappingSet, lead_updates_from_canonical
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX


def empty_frame(columns: list[str], rows: list[dict] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows or [], columns=columns, dtype=object)


def contact_writes(
    pairs: pd.DataFrame,
    resolved: pd.DataFrame,
    push: np.ndarray,
    columns: list[str],
    contact_known: np.ndarray,
    mapping_set: MappingSet,
) -> pd.DataFrame:
    """lead_id, hubspot_id (None: create), the key (`email`, `domain`), properties: the pushed fields that
    changed, every non-empty pushed field of a record to create; the key always (an upsert's id)."""
    key = mapping_set.key
    pushed = np.array([mapping_set.by_column(c).mapping.pushes for c in columns])
    creating = pairs["hubspot_id"].isna().to_numpy() & ~contact_known
    values = resolved.to_numpy(dtype=object)  # plain arrays: pandas scalar access is slow per cell
    lead_ids, hubspot_ids = (
        pairs["lead_id"].to_numpy(dtype=object),
        pairs["hubspot_id"].to_numpy(dtype=object),
    )
    key_at = columns.index(key)
    # Which fields each pair sends, for every pair at once; then plain lists, row by row.
    chosen = np.flatnonzero(push.any(axis=1) | creating)
    wanted_all = np.where(creating[chosen, None], pushed[None, :] & (values[chosen] != ""), push[chosen])
    rows = []
    for i, wanted in zip(chosen.tolist(), wanted_all.tolist(), strict=True):
        row = values[i].tolist()
        props = {columns[j]: row[j] for j, w in enumerate(wanted) if w}
        if not props:
            continue
        props[key] = row[key_at]
        rows.append(
            {"lead_id": lead_ids[i], "hubspot_id": hubspot_ids[i], key: row[key_at], "properties": props}
        )
    return empty_frame(["lead_id", "hubspot_id", key, "properties"], rows)


def lead_writes(
    pairs: pd.DataFrame, resolved: pd.DataFrame, pull: np.ndarray, columns: list[str], mapping_set: MappingSet
) -> pd.DataFrame:
    """lead_id (a placeholder for a lead to create), hubspot_id, fields {lead field: value}: the pulled fields
    that changed, every non-empty one of a lead to create."""
    creating = pairs["lead_id"].astype(str).str.startswith(NEW_LEAD_PREFIX).to_numpy(dtype=bool)
    wanted = np.flatnonzero(pull.any(axis=1) | creating)
    if not len(wanted):
        return empty_frame(["lead_id", "hubspot_id", "fields"])
    fields: list[dict[str, str]] = [{} for _ in wanted]
    for j, column in enumerate(columns):
        compiled = mapping_set.by_column(column)
        if not compiled.mapping.pulls:
            continue
        column_values = resolved[column].to_numpy(dtype=object)
        rows = [k for k, i in enumerate(wanted) if pull[i, j] or (creating[i] and column_values[i] != "")]
        if not rows:
            continue
        values = pd.Series([column_values[wanted[k]] for k in rows], dtype=object)
        for source, series in lead_updates_from_canonical(values, compiled).items():
            for k, value in zip(rows, series.tolist(), strict=True):
                fields[k][source] = value
    lead_ids, hubspot_ids = (
        pairs["lead_id"].to_numpy(dtype=object),
        pairs["hubspot_id"].to_numpy(dtype=object),
    )
    out = [
        {"lead_id": lead_ids[i], "hubspot_id": hubspot_ids[i], "fields": f}
        for i, f in zip(wanted, fields, strict=True)
        if f or creating[i]
    ]
    return empty_frame(["lead_id", "hubspot_id", "fields"], out)


def agreed_rows(pairs: pd.DataFrame, resolved: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    """lead_id, hubspot_id, agreed {column: value}, sync_hash, retry: the resolved values, hashed as the lead
    holding them will hash."""
    columns = list(resolved.columns)
    by_column = [resolved[c].tolist() for c in columns]  # plain lists: iterating numpy rows is slower
    agreed = [dict(zip(columns, row, strict=True)) for row in zip(*by_column, strict=True)]
    # The agreed values are the resolved ones: hash them as the lead will be hashed.
    hashes = hash_frame(resolved, mapping_set.pushed_columns).to_numpy(dtype=object) if len(resolved) else []
    return pd.DataFrame(
        {
            "lead_id": pd.Series(pairs["lead_id"].to_numpy(), dtype=object),
            "hubspot_id": pd.Series(pairs["hubspot_id"].to_numpy(), dtype=object),
            "agreed": pd.Series(agreed, dtype=object),
            "sync_hash": pd.Series(hashes, dtype=object),
            "retry": pairs["retry"].to_numpy(dtype=bool),
        }
    )
