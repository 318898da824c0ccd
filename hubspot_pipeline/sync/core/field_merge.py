"""The per-field 3-way merge of the pairs that need a look: for each field, what each side holds and what
they last agreed, the value both will hold, whether it goes to HubSpot, into the lead, or both, and the
conflicts with the policy's decision. Pure.

Per field of a pair (lead L, contact C, agreed A): L != A means ColdCopy changed it, C != A means HubSpot
did. One side changed: its value wins. Both to the same value: nothing to do. Both to different values: a
conflict, resolved by the field's policy (`latest` by each side's change time of that field, ties to
ColdCopy; `coldcopy_wins`; `hubspot_wins`). A pair never agreed has no A: an empty value on one side takes
the other side's value, two different values are a conflict. A contact not read this run holds A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.mapping import CompiledMapping, MappingSet, lead_updates_from_canonical
from hubspot_pipeline.sync.core.markers import ROW_TIME
from hubspot_pipeline.sync.core.pairing import text_frame

CONFLICT_COLUMNS = [
    "lead_id",
    "hubspot_id",
    "field",
    "coldcopy_value",
    "hubspot_value",
    "coldcopy_changed_at",
    "hubspot_changed_at",
    "policy",
    "winner",
    "resolved_value",
]
NAT = np.iinfo(np.int64).min


@dataclass
class Sides:
    """The three values of every field of every pair, as text frames in pair order (columns: canonical)."""

    lead: pd.DataFrame
    contact: pd.DataFrame  # the contact read, else the agreed values, else ""
    agreed: pd.DataFrame
    has_agreed: np.ndarray  # bool per pair: there are agreed values to compare with
    contact_read: np.ndarray  # bool per pair


@dataclass
class Times:
    """Per-field change times (UTC) by canonical column, ROW_TIME as fallback; indexed by lead id and by
    HubSpot id. None: no times (every `latest` conflict then goes to ColdCopy)."""

    leads: pd.DataFrame | None
    contacts: pd.DataFrame | None


@dataclass
class FieldMerge:
    resolved: pd.DataFrame  # the value each field of each pair holds once written, pair order
    push: np.ndarray  # bool [pair, column]: to write to HubSpot
    pull: np.ndarray  # bool [pair, column]: to write into the lead
    conflicts: pd.DataFrame  # CONFLICT_COLUMNS


def sides(
    pairs: pd.DataFrame,
    lead_frame: pd.DataFrame,
    contacts: pd.DataFrame,
    agreed: pd.Series,
    columns: list[str],
) -> Sides:
    """What each side and the last agreement hold, for pairs (lead_id, hubspot_id, has_agreed).
    lead_frame: the pairs' canonical leads as text, pair order; agreed: agreed dicts by lead id."""
    agreed_by_lead = agreed.to_dict()
    agreed_rows = [
        agreed_by_lead.get(lead_id) if ok else None
        for lead_id, ok in zip(pairs["lead_id"], pairs["has_agreed"], strict=True)
    ]
    agreed_frame = text_frame(
        pd.DataFrame.from_records([a or {} for a in agreed_rows], columns=columns),
        pd.RangeIndex(len(pairs)),
        columns,
    )
    has_agreed = pairs["has_agreed"].to_numpy(dtype=bool) & np.array(
        [a is not None for a in agreed_rows], dtype=bool
    )
    contact_read = pairs["hubspot_id"].isin(contacts.index).to_numpy(dtype=bool)
    read = text_frame(contacts, pd.Index(pairs["hubspot_id"].where(contact_read, None)), columns)
    read = read.reset_index(drop=True)
    shape = (len(pairs), len(columns))
    fallback = agreed_frame.where(np.broadcast_to(has_agreed[:, None], shape), "")
    contact = read.where(np.broadcast_to(contact_read[:, None], shape), fallback)
    return Sides(lead_frame, contact, agreed_frame, has_agreed, contact_read)


def merge_fields(pairs: pd.DataFrame, sides: Sides, mapping_set: MappingSet, times: Times) -> FieldMerge:
    """Every field of every pair, column by column (numpy over all pairs at once)."""
    columns = mapping_set.columns
    resolved = pd.DataFrame(index=pairs.index, columns=columns, dtype=object)
    push = np.zeros((len(pairs), len(columns)), dtype=bool)
    pull = np.zeros((len(pairs), len(columns)), dtype=bool)
    conflicts: list[pd.DataFrame] = []
    lead_index, contact_index = pd.Index(pairs["lead_id"]), pd.Index(pairs["hubspot_id"])
    for position, column in enumerate(columns):
        compiled = mapping_set.by_column(column)
        lead_v = sides.lead[column].to_numpy(dtype=object)
        contact_v = sides.contact[column].to_numpy(dtype=object)
        agreed_v = sides.agreed[column].to_numpy(dtype=object)
        has = sides.has_agreed
        lead_changed = np.where(has, lead_v != agreed_v, lead_v != "")
        contact_changed = np.where(has, contact_v != agreed_v, contact_v != "")
        direction = compiled.mapping.direction
        if direction == "to_hubspot":
            value = lead_v
            push[:, position] = lead_changed & (lead_v != contact_v)
        elif direction == "from_hubspot":
            value = contact_v
            pull[:, position] = contact_changed & (contact_v != lead_v)
        else:
            lead_wins = lead_wins_by_policy(compiled.policy, times, lead_index, contact_index, column)
            value, clash = merge_column(
                lead_v, contact_v, agreed_v, has, lead_changed, contact_changed, lead_wins
            )
            if clash.any():
                conflicts.append(
                    conflict_rows(
                        pairs,
                        clash,
                        column,
                        (lead_v, contact_v, value),
                        lead_wins,
                        compiled.policy,
                        times,
                        lead_index,
                        contact_index,
                    )
                )
            value = round_trip(value, lead_v, compiled)
            pull[:, position] = value != lead_v
            push[:, position] = value != contact_v
        resolved[column] = value
    found = pd.concat(conflicts, ignore_index=True) if conflicts else _empty(CONFLICT_COLUMNS)
    return FieldMerge(resolved, push, pull, found)


def merge_column(
    lead_v: np.ndarray,
    contact_v: np.ndarray,
    agreed_v: np.ndarray,
    has_agreed: np.ndarray,
    lead_changed: np.ndarray,
    contact_changed: np.ndarray,
    lead_wins: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A bidirectional field's resolved values and where the sides clash (both changed, differently)."""
    clash = lead_changed & contact_changed & (lead_v != contact_v)
    value = np.where(lead_changed & ~contact_changed, lead_v, agreed_v)
    value = np.where(contact_changed & ~lead_changed, contact_v, value)
    value = np.where(lead_changed & contact_changed & (lead_v == contact_v), lead_v, value)
    value = np.where(clash, np.where(lead_wins, lead_v, contact_v), value)
    value = np.where(~has_agreed & ~lead_changed & ~contact_changed, "", value)
    return value, clash


def round_trip(value: np.ndarray, lead_v: np.ndarray, compiled: CompiledMapping) -> np.ndarray:
    """Values pulled into the lead, as HubSpot will see the lead again (a transform may normalise them), so
    the next run finds both sides equal."""
    pulled = value != lead_v
    if not pulled.any() or not compiled.mapping.pulls:
        return value
    back = lead_updates_from_canonical(pd.Series(value[pulled], dtype=object), compiled)
    again = _recanonicalise(back, compiled)
    value = value.copy()
    value[pulled] = again
    return value


def _recanonicalise(back: dict[str, pd.Series], compiled: CompiledMapping) -> np.ndarray:
    sources = compiled.mapping.sources
    values = back[sources[0]]
    for source in sources[1:]:
        values = (values + " " + back[source]).str.strip()
    return compiled.pipeline.to_hubspot(values.reset_index(drop=True).astype(object)).to_numpy(dtype=object)


def field_times(frame: pd.DataFrame | None, index: pd.Index, column: str) -> np.ndarray:
    """Change times (ns since epoch, NAT when unknown) of `column` for the rows `index`."""
    if frame is None or frame.empty:
        return np.full(len(index), NAT)
    chosen = (
        pd.to_datetime(frame[column], utc=True) if column in frame else pd.Series(pd.NaT, index=frame.index)
    )
    if ROW_TIME in frame:
        chosen = pd.to_datetime(chosen, utc=True).fillna(pd.to_datetime(frame[ROW_TIME], utc=True))
    values = pd.to_datetime(chosen.reindex(index), utc=True)
    return values.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def lead_wins_by_policy(
    policy: str, times: Times, lead_index: pd.Index, contact_index: pd.Index, column: str
) -> np.ndarray:
    """Per pair, whether ColdCopy's value wins a clash on `column`."""
    if policy == "coldcopy_wins":
        return np.ones(len(lead_index), dtype=bool)
    if policy == "hubspot_wins":
        return np.zeros(len(lead_index), dtype=bool)
    lead_t = field_times(times.leads, lead_index, column)
    contact_t = field_times(times.contacts, contact_index, column)
    return lead_t >= contact_t  # ties (and two unknown times) go to ColdCopy


def conflict_rows(
    pairs: pd.DataFrame,
    clash: np.ndarray,
    column: str,
    values: tuple[np.ndarray, np.ndarray, np.ndarray],
    lead_wins: np.ndarray,
    policy: str,
    times: Times,
    lead_index: pd.Index,
    contact_index: pd.Index,
) -> pd.DataFrame:
    """The clashes on `column`: both values, both change times, the policy and its decision."""
    lead_v, contact_v, value = values

    def stamp(ns: np.ndarray) -> pd.Series:
        return pd.to_datetime(pd.Series(np.where(ns == NAT, np.int64(0), ns)), utc=True).where(ns != NAT)

    lead_t = stamp(field_times(times.leads, lead_index, column))
    contact_t = stamp(field_times(times.contacts, contact_index, column))
    return pd.DataFrame(
        {
            "lead_id": pairs["lead_id"].to_numpy()[clash],
            "hubspot_id": pairs["hubspot_id"].to_numpy()[clash],
            "field": column,
            "coldcopy_value": lead_v[clash],
            "hubspot_value": contact_v[clash],
            "coldcopy_changed_at": lead_t.to_numpy()[clash],
            "hubspot_changed_at": contact_t.to_numpy()[clash],
            "policy": policy,
            "winner": np.where(lead_wins[clash], "coldcopy", "hubspot"),
            "resolved_value": value[clash],
        }
    )


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([], columns=columns, dtype=object)
