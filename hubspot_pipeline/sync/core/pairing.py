"""Which lead goes with which contact, and which pairs need nothing (the fast path). Pure.

A lead linked to a live pair keeps its contact. An unlinked lead takes the free contact with its email (a
contact no live pair holds, or a merge survivor). A free contact with an email no lead has becomes a lead to
create, under a placeholder id (NEW_LEAD_PREFIX + its HubSpot id). Contacts without an email are skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.hashing import hash_frame
from hubspot_pipeline.sync.core.leads import Leads
from hubspot_pipeline.sync.core.mapping import EMAIL, LEAD_FIELDS, MappingSet
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX

NEW_LEAD_DEFAULTS = {"status": "new"}  # what `leads` fills in for a lead created without these fields


@dataclass
class Pairing:
    """pairs: lead_id, hubspot_id (None: no contact yet), has_agreed (a live linked pair), retry (in the
    retry index); leads: canonical leads of the pairs, placeholders included; skipped: contacts without an
    email."""

    pairs: pd.DataFrame
    leads: pd.DataFrame
    skipped: int


def text_frame(frame: pd.DataFrame, index: pd.Index, columns: list[str]) -> pd.DataFrame:
    """`frame`'s rows `index` and `columns`, "" where it has no value."""
    out = frame.reindex(index=index, columns=columns)
    return out.astype(object).where(out.notna(), "")


def placeholder_leads(contacts: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    """Canonical leads standing in for the leads to create from `contacts` (the table's defaults and the
    contact's email), indexed by placeholder id."""
    data: dict[str, object] = {
        name: [NEW_LEAD_DEFAULTS.get(name, "")] * len(contacts) for name in LEAD_FIELDS
    }
    data["id"] = [NEW_LEAD_PREFIX + str(h) for h in contacts.index]
    data["custom_fields"] = [{} for _ in range(len(contacts))]
    frame = pd.DataFrame(data)
    frame[EMAIL] = contacts[EMAIL].to_numpy()
    return Leads.of(frame, mapping_set).canonical


def pair_records(
    leads: pd.DataFrame,
    contacts: pd.DataFrame,
    state: pd.DataFrame,
    *,
    syncing: pd.Index,
    linked_contacts: Collection[str],
    mapping_set: MappingSet,
    pull_new: bool = True,
) -> Pairing:
    """Pair the leads still syncing with the contacts read.

    leads: canonical leads still syncing (not deleted, ended or tombstoned); contacts: canonical contacts
    not archived; state: every pair's state (index lead id, `hubspot_id`, `status`); syncing: the lead ids
    whose pair is live; linked_contacts: every contact a pair holds (ended ones too: their contacts are not
    pulled back as new leads), merge survivors relinked this run included, whether their kept pair goes on
    or ended this run (its lead deleted): either way no new contact to pull back as a lead. Records are
    matched by `mapping_set.key`; pull_new False: no free contact becomes a lead to create."""
    key = mapping_set.key
    live = state.loc[state.index.isin(syncing)]
    linked = live[live["hubspot_id"].notna() & live.index.isin(leads.index)]
    unlinked_leads = leads.index[~leads.index.isin(linked.index)]
    free = contacts[~contacts.index.isin(set(linked_contacts))]
    by_email = pd.Series(free.index, index=free[key].to_numpy())
    by_email = by_email[~by_email.index.duplicated()]
    first_match = leads.loc[unlinked_leads, key].map(by_email)
    skipped = int((free[key] == "").sum())
    new_contacts = free[~free.index.isin(set(first_match.dropna())) & (free[key] != "")]
    new_contacts = new_contacts[~new_contacts[key].isin(set(leads[key]))]
    if not pull_new:
        new_contacts = new_contacts.iloc[:0]
    placeholders = placeholder_leads(new_contacts, mapping_set) if len(new_contacts) else leads.iloc[:0]
    all_leads = pd.concat([leads, placeholders]) if len(placeholders) else leads
    pair_leads = list(linked.index) + list(unlinked_leads) + list(placeholders.index)
    pair_contacts = (
        list(linked["hubspot_id"].astype(str))
        + [h if isinstance(h, str) else None for h in first_match.tolist()]
        + [str(h) for h in new_contacts.index]
    )
    has_agreed = np.array(
        [True] * len(linked) + [False] * (len(unlinked_leads) + len(placeholders)), dtype=bool
    )
    pairs = pd.DataFrame(
        {
            "lead_id": pd.Series(pair_leads, dtype=object),
            "hubspot_id": pd.Series(pair_contacts, dtype=object),
            "has_agreed": has_agreed,
        }
    )
    pairs["retry"] = pairs["lead_id"].map(state["status"]).eq("error").to_numpy(dtype=bool)
    return Pairing(pairs, all_leads, skipped)


def quiet_pairs(
    pairs: pd.DataFrame,
    lead_frame: pd.DataFrame,
    stored_hashes: Mapping[str, object] | pd.Series,
    contacts_read: pd.Index,
    mapping_set: MappingSet,
) -> np.ndarray:
    """The fast path: which pairs need nothing (bool per pair). An agreed pair whose lead hashes to its stored
    hash, whose contact was not read and that is not being retried is what both sides last agreed.
    lead_frame: the pairs' canonical leads as text, in pair order."""
    lead_hash = hash_frame(lead_frame, mapping_set.pushed_columns).to_numpy()
    stored = pairs["lead_id"].map(stored_hashes).to_numpy()
    same_hash = np.asarray(lead_hash == stored, dtype=bool)
    contact_read = pairs["hubspot_id"].isin(contacts_read).to_numpy()
    return (
        pairs["has_agreed"].to_numpy(dtype=bool)
        & same_hash
        & ~contact_read
        & ~pairs["retry"].to_numpy(dtype=bool)
    )
