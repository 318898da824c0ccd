"""Leads as the store reads them and as canonical columns, side by side. `Leads.of` is the one place a lead
becomes canonical: every reader passes its rows through it once and the plan, the checks and the full
resync's hash comparison use the canonical frame it made."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.mapping import MappingSet, canonical_leads
from hubspot_pipeline.sync.core.markers import ROW_TIME


@dataclass(frozen=True)
class Leads:
    """raw: a row per lead (`id`, the lead fields, `custom_fields.<key>` and engagement columns, `deleted`);
    canonical: the same leads as canonical columns, index lead id, same order."""

    raw: pd.DataFrame
    canonical: pd.DataFrame

    @classmethod
    def of(cls, raw: pd.DataFrame, mapping_set: MappingSet) -> Leads:
        return cls(raw, canonical_leads(raw, mapping_set))

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def ids(self) -> pd.Series:
        return self.raw["id"]

    def where(self, mask: np.ndarray | pd.Series) -> Leads:
        """The leads where `mask` (one bool per row) holds."""
        keep = np.asarray(mask, dtype=bool)
        return Leads(self.raw[keep], self.canonical[keep])

    def live(self) -> pd.DataFrame:
        """Canonical columns of the leads not deleted."""
        return self.canonical[~self.raw["deleted"].to_numpy(dtype=bool)]

    @staticmethod
    def union(parts: Iterable[Leads]) -> Leads:
        """The leads of every part, each id once (its first row)."""
        parts = [p for p in parts]
        raw = pd.concat([p.raw for p in parts], ignore_index=True)
        canonical = pd.concat([p.canonical for p in parts])
        first = ~raw["id"].duplicated().to_numpy()
        raw = raw[first].reset_index(drop=True)
        raw["deleted"] = raw["deleted"].astype(bool)
        return Leads(raw, canonical[first])


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
