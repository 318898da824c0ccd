"""The 3-way plan: from the leads, the HubSpot contacts and the last agreed state, what to push, what to
pull, which conflicts were resolved how, and the state to record once the writes succeed.

Per field of a matched pair (lead L, contact C, agreed A): L != A means ColdCopy changed it, C != A means
HubSpot did. One side changed: that side's value wins. Both changed to the same value: nothing to do.
Both changed to different values: a conflict, resolved by the field's policy (`latest` by per-field change
time, ties to ColdCopy; `coldcopy_wins`; `hubspot_wins`) and recorded with both values. A `to_hubspot` field
only ever flows to HubSpot (HubSpot edits are left alone), a `from_hubspot` field only into the lead.
A pair never agreed before (first match by email, or a new record on one side) has no A: an empty value
on one side takes the other side's value, two different values are a conflict.

A contact not read this run is assumed to hold the agreed values: that is what makes an incremental run
cheap and what makes HubSpot echoes of our own writes no-ops. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.hashing import hash_frame
from hubspot_pipeline.sync.core.mapping import EMAIL, MappingSet, canonical_leads, lead_updates_from_canonical

ROW_TIME = "*"  # column of a change-time frame used when a field has no time of its own
NEW_LEAD_PREFIX = "new:"  # placeholder lead id of a lead to create from a HubSpot contact
NEW_LEAD_DEFAULTS = {"status": "new"}
TOMBSTONE = "_tombstone"  # key in `agreed` of a pair the sync no longer syncs (deleted, archived, merged)

STATE_COLUMNS = ["hubspot_id", "sync_hash", "agreed", "status"]


@dataclass
class Plan:
    """What one sync run will do. Every frame is empty when there is nothing of its kind."""

    # lead_id, hubspot_id (None: create/upsert by email), email, properties {property: value}
    contact_writes: pd.DataFrame
    # lead_id (NEW_LEAD_PREFIX + hubspot_id for a lead to create), hubspot_id, fields {lead field: value}
    lead_writes: pd.DataFrame
    # lead_id, hubspot_id, field, coldcopy_value, hubspot_value, coldcopy_changed_at, hubspot_changed_at,
    # policy, winner, resolved_value
    conflicts: pd.DataFrame
    # lead_id, hubspot_id, agreed {column: value}, sync_hash: to record once the pair's writes succeed
    agreed: pd.DataFrame
    # lead_id, hubspot_id, reason: pairs the sync stops syncing, so that neither side re-creates the other
    tombstones: pd.DataFrame
    lead_deletes: list[str] = field(default_factory=list)  # leads to soft-delete (archive policy delete_lead)
    unlinks: list[str] = field(default_factory=list)  # state rows to forget (archive policy keep)
    relinks: dict[str, str] = field(default_factory=dict)  # lead_id -> surviving contact id after a merge
    unchanged: int = 0
    skipped_contacts: int = 0  # HubSpot contacts without an email: nothing to match them with

    def counts(self) -> dict[str, int]:
        creates = self.contact_writes["hubspot_id"].isna().sum() if len(self.contact_writes) else 0
        new_leads = (
            self.lead_writes["lead_id"].astype(str).str.startswith(NEW_LEAD_PREFIX).sum()
            if len(self.lead_writes)
            else 0
        )
        return {
            "push": len(self.contact_writes),
            "push_new": int(creates),
            "pull": len(self.lead_writes),
            "pull_new": int(new_leads),
            "conflicts": len(self.conflicts),
            "tombstones": len(self.tombstones),
            "lead_deletes": len(self.lead_deletes),
            "unlinks": len(self.unlinks),
            "relinks": len(self.relinks),
            "unchanged": self.unchanged,
            "skipped_contacts": self.skipped_contacts,
        }


def _frame(columns: list[str], rows: list[dict] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows or [], columns=columns, dtype=object)


def _follow(merges: Mapping[str, str], hubspot_id: str) -> str:
    seen = set()
    while hubspot_id in merges and hubspot_id not in seen:
        seen.add(hubspot_id)
        hubspot_id = merges[hubspot_id]
    return hubspot_id


def _times(frame: pd.DataFrame | None, index: pd.Index, column: str) -> np.ndarray:
    """Change times (ns since epoch, NaT as min int) of `column` for the rows `index`."""
    if frame is None or frame.empty:
        return np.full(len(index), np.iinfo(np.int64).min)
    chosen = (
        pd.to_datetime(frame[column], utc=True) if column in frame else pd.Series(pd.NaT, index=frame.index)
    )
    if ROW_TIME in frame:
        chosen = pd.to_datetime(chosen, utc=True).fillna(pd.to_datetime(frame[ROW_TIME], utc=True))
    values = pd.to_datetime(chosen.reindex(index), utc=True)
    return values.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def _text_frame(frame: pd.DataFrame, index: pd.Index, columns: list[str]) -> pd.DataFrame:
    out = frame.reindex(index=index, columns=columns)
    return out.astype(object).where(out.notna(), "")


def _placeholder_leads(contacts: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    """Empty leads (with the table's defaults) standing in for leads to create from HubSpot contacts."""
    from hubspot_pipeline.sync.core.mapping import LEAD_FIELDS

    data: dict[str, object] = {
        name: [NEW_LEAD_DEFAULTS.get(name, "")] * len(contacts) for name in LEAD_FIELDS
    }
    data["id"] = [NEW_LEAD_PREFIX + str(h) for h in contacts.index]
    data["custom_fields"] = [{} for _ in range(len(contacts))]
    frame = pd.DataFrame(data)
    frame[EMAIL] = contacts[EMAIL].to_numpy()
    return canonical_leads(frame, mapping_set)


def build_plan(
    leads: pd.DataFrame,
    contacts: pd.DataFrame,
    state: pd.DataFrame,
    mapping_set: MappingSet,
    *,
    lead_times: pd.DataFrame | None = None,
    contact_times: pd.DataFrame | None = None,
    deleted_leads: Collection[str] = (),
    archived_contacts: Collection[str] = (),
    merges: Mapping[str, str] | None = None,
    on_hubspot_archive: str = "unlink",
) -> Plan:
    """Plan one sync of a batch of pairs.

    leads: canonical leads (mapping.canonical_leads), index lead id; every lead that changed, that is in the
      retry index, or whose contact was read (by link or by email), may include unchanged ones.
    contacts: canonical contacts read this run (mapping.canonical_contacts), index HubSpot id.
    state: `hubspot_sync_status` rows for those leads, index lead id, columns STATE_COLUMNS (+ `tombstone`
      optional); `agreed` may be None where `sync_hash` matches the lead (it is then not looked at).
    lead_times / contact_times: per-field change times (UTC) by canonical column, ROW_TIME as fallback.
    deleted_leads: lead ids deleted in ColdCopy. archived_contacts: HubSpot ids archived (deleted) there.
    merges: HubSpot id merged away -> id it was merged into (chains are followed).
    """
    columns = mapping_set.columns
    merges = dict(merges or {})
    archived = {str(a) for a in archived_contacts}
    deleted = {str(d) for d in deleted_leads}
    state = state.copy().astype({"hubspot_id": object})
    state["hubspot_id"] = state["hubspot_id"].where(state["hubspot_id"].notna(), None)
    if "tombstone" not in state:
        state["tombstone"] = [
            (a or {}).get(TOMBSTONE) if isinstance(a, dict) else None for a in state.get("agreed", [])
        ]
    tombstones: list[dict] = []
    lead_deletes: list[str] = []
    unlinks: list[str] = []

    # Merges: follow each link to the surviving contact; of the leads on one survivor one keeps it, the
    # others stop syncing (re-pushing them would re-create the contacts HubSpot merged away).
    live = state[state["tombstone"].isna() & state["hubspot_id"].notna()]
    relinks, merged_away = merge_keepers(live["hubspot_id"], merges, leads[EMAIL], contacts[EMAIL])
    for lead_id, survivor in relinks.items():
        state.loc[lead_id, "hubspot_id"] = survivor
    tombstones += [{"lead_id": i, "hubspot_id": s, "reason": "merged"} for i, s in merged_away.items()]
    ended = {t["lead_id"] for t in tombstones}

    # Archived in HubSpot: per the workspace's choice.
    for lead_id, hubspot_id in state["hubspot_id"].items():
        if str(hubspot_id) not in archived or lead_id in ended or pd.notna(state.at[lead_id, "tombstone"]):
            continue
        if on_hubspot_archive == "keep":
            unlinks.append(lead_id)
        else:
            tombstones.append(
                {"lead_id": lead_id, "hubspot_id": str(hubspot_id), "reason": "hubspot_archived"}
            )
            if on_hubspot_archive == "delete_lead":
                lead_deletes.append(lead_id)
        ended.add(lead_id)
    # Deleted in ColdCopy: stop syncing, keep the link so the contact is not pulled back as a new lead.
    for lead_id in deleted & set(state.index):
        if lead_id not in ended and pd.isna(state.at[lead_id, "tombstone"]):
            tombstones.append(
                {"lead_id": lead_id, "hubspot_id": state.at[lead_id, "hubspot_id"], "reason": "lead_deleted"}
            )
            ended.add(lead_id)

    linked_contacts = set(state["hubspot_id"].dropna().astype(str))
    contacts = contacts[~contacts.index.isin(archived)]
    active_state = state[state["tombstone"].isna() & ~state.index.isin(ended) & ~state.index.isin(unlinks)]
    leads = leads[~leads.index.isin(deleted) & ~leads.index.isin(ended)]
    leads = leads[~leads.index.isin(state.index[state["tombstone"].notna()])]

    # Which lead goes with which contact.
    linked = active_state[active_state["hubspot_id"].notna()]
    linked = linked[linked.index.isin(leads.index)]
    unlinked_leads = leads.index[~leads.index.isin(linked.index)]
    free_contacts = contacts[
        ~contacts.index.isin(linked_contacts) | contacts.index.isin(set(relinks.values()))
    ]
    free_contacts = free_contacts[~free_contacts.index.isin(linked["hubspot_id"].astype(str))]
    by_email = pd.Series(free_contacts.index, index=free_contacts[EMAIL].to_numpy())
    by_email = by_email[~by_email.index.duplicated()]
    lead_emails = leads.loc[unlinked_leads, EMAIL]
    first_match = lead_emails.map(by_email)
    skipped = int((free_contacts[EMAIL] == "").sum())
    matched_contacts = set(first_match.dropna())
    new_contacts = free_contacts[~free_contacts.index.isin(matched_contacts) & (free_contacts[EMAIL] != "")]
    new_contacts = new_contacts[~new_contacts[EMAIL].isin(set(leads[EMAIL]))]

    placeholders = _placeholder_leads(new_contacts, mapping_set)
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

    # Fast path: an agreed pair whose lead hash matches, whose contact was not read and that is not being
    # retried needs nothing.
    lead_frame = _text_frame(all_leads, pd.Index(pairs["lead_id"]), columns)
    lead_hash = hash_frame(lead_frame, mapping_set.pushed_columns).to_numpy()
    stored_hash = pairs["lead_id"].map(state["sync_hash"]).to_numpy()
    contact_read = pairs["hubspot_id"].isin(contacts.index).to_numpy()
    same_hash = np.asarray(lead_hash == stored_hash, dtype=bool)
    quiet = (
        pairs["has_agreed"].to_numpy(dtype=bool)
        & same_hash
        & ~contact_read
        & ~pairs["retry"].to_numpy(dtype=bool)
    )
    unchanged = int(quiet.sum())
    pairs, lead_frame = pairs[~quiet].reset_index(drop=True), lead_frame[~quiet].reset_index(drop=True)

    agreed_by_lead = state["agreed"].to_dict()
    agreed_rows = [
        agreed_by_lead.get(lead_id) if ok else None
        for lead_id, ok in zip(pairs["lead_id"], pairs["has_agreed"], strict=True)
    ]
    agreed_frame = _text_frame(
        pd.DataFrame.from_records([a or {} for a in agreed_rows], columns=columns),
        pd.RangeIndex(len(pairs)),
        columns,
    )
    has_agreed = pairs["has_agreed"].to_numpy(dtype=bool) & np.array(
        [a is not None for a in agreed_rows], dtype=bool
    )
    contact_read = pairs["hubspot_id"].isin(contacts.index).to_numpy(dtype=bool)
    read_contacts = _text_frame(
        contacts, pd.Index(pairs["hubspot_id"].where(contact_read, None)), columns
    ).reset_index(drop=True)
    # A contact not read this run holds the agreed values; no contact at all holds nothing.
    shape = (len(pairs), len(columns))
    fallback = agreed_frame.where(np.broadcast_to(has_agreed[:, None], shape), "")
    contact_frame = read_contacts.where(np.broadcast_to(contact_read[:, None], shape), fallback)

    lead_index = pd.Index(pairs["lead_id"])
    contact_index = pd.Index(pairs["hubspot_id"])
    resolved = pd.DataFrame(index=pairs.index, columns=columns, dtype=object)
    push = np.zeros((len(pairs), len(columns)), dtype=bool)
    pull = np.zeros((len(pairs), len(columns)), dtype=bool)
    conflicts: list[pd.DataFrame] = []
    for position, column in enumerate(columns):
        compiled = mapping_set.by_column(column)
        direction = compiled.mapping.direction
        lead_v = lead_frame[column].to_numpy(dtype=object)
        contact_v = contact_frame[column].to_numpy(dtype=object)
        agreed_v = agreed_frame[column].to_numpy(dtype=object)
        lead_changed = np.where(has_agreed, lead_v != agreed_v, lead_v != "")
        contact_changed = np.where(has_agreed, contact_v != agreed_v, contact_v != "")
        if direction == "to_hubspot":
            value = lead_v
            push[:, position] = lead_changed & (lead_v != contact_v)
        elif direction == "from_hubspot":
            value = contact_v
            pull[:, position] = contact_changed & (contact_v != lead_v)
        else:
            clash = lead_changed & contact_changed & (lead_v != contact_v)
            lead_wins = _lead_wins(
                compiled.policy, lead_times, contact_times, lead_index, contact_index, column
            )
            value = np.where(lead_changed & ~contact_changed, lead_v, agreed_v)
            value = np.where(contact_changed & ~lead_changed, contact_v, value)
            value = np.where(lead_changed & contact_changed & (lead_v == contact_v), lead_v, value)
            value = np.where(clash, np.where(lead_wins, lead_v, contact_v), value)
            value = np.where(~has_agreed & ~lead_changed & ~contact_changed, "", value)
            if clash.any():
                conflicts.append(
                    _conflict_rows(
                        pairs,
                        clash,
                        column,
                        lead_v,
                        contact_v,
                        value,
                        lead_wins,
                        compiled.policy,
                        lead_times,
                        contact_times,
                        lead_index,
                        contact_index,
                    )
                )
            pulled = value != lead_v
            if pulled.any() and compiled.mapping.pulls:
                # Round trip: what the lead will hold, seen from HubSpot again (a transform may normalise it).
                back = lead_updates_from_canonical(pd.Series(value[pulled], dtype=object), compiled)
                again = _recanonicalise(back, compiled)
                value = value.copy()
                value[pulled] = again
            pull[:, position] = value != lead_v
            push[:, position] = value != contact_v
        resolved[column] = value

    plan_pairs = pairs.assign(email=resolved[EMAIL].to_numpy())
    return Plan(
        contact_writes=_contact_writes(
            plan_pairs, resolved, push, columns, contact_read | pairs["has_agreed"].to_numpy(), mapping_set
        ),
        lead_writes=_lead_writes(plan_pairs, resolved, pull, columns, mapping_set),
        conflicts=pd.concat(conflicts, ignore_index=True) if conflicts else _frame(CONFLICT_COLUMNS),
        agreed=_agreed_rows(plan_pairs, resolved, mapping_set),
        tombstones=_frame(["lead_id", "hubspot_id", "reason"], tombstones),
        lead_deletes=lead_deletes,
        unlinks=unlinks,
        relinks=relinks,
        unchanged=unchanged,
        skipped_contacts=skipped,
    )


def merge_keepers(
    links: pd.Series, merges: Mapping[str, str], lead_emails: pd.Series, contact_emails: pd.Series
) -> tuple[dict[str, str], dict[str, str]]:
    """After HubSpot merges contacts: which lead keeps each surviving contact, which leads' pairs end.

    links: the live pairs' HubSpot ids by lead id; lead_emails / contact_emails: canonical emails of the
    leads and contacts read. The survivor stays with the lead whose email it holds (HubSpot keeps the
    primary's email); when it was not read or holds none of theirs, with the lead already linked to its id,
    else the first. Returns (lead id -> survivor to relink, lead id -> survivor of pairs to end).
    """
    claims: dict[str, list[str]] = {}
    for lead_id, hubspot_id in links.items():
        claims.setdefault(_follow(merges, str(hubspot_id)), []).append(str(lead_id))
    relinks: dict[str, str] = {}
    ended: dict[str, str] = {}
    for survivor, claimants in claims.items():
        if not any(str(links[i]) in merges for i in claimants):
            continue  # no merge on this contact
        email = contact_emails.get(survivor, "")
        by_email = [i for i in claimants if email and lead_emails.get(i) == email]
        holder = [i for i in claimants if str(links[i]) == survivor]
        keeper = (by_email or holder or claimants)[0]
        if str(links[keeper]) != survivor:
            relinks[keeper] = survivor
        ended.update({i: survivor for i in claimants if i != keeper})
    return relinks, ended


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


def _lead_wins(
    policy: str,
    lead_times: pd.DataFrame | None,
    contact_times: pd.DataFrame | None,
    lead_index: pd.Index,
    contact_index: pd.Index,
    column: str,
) -> np.ndarray:
    if policy == "coldcopy_wins":
        return np.ones(len(lead_index), dtype=bool)
    if policy == "hubspot_wins":
        return np.zeros(len(lead_index), dtype=bool)
    lead_t = _times(lead_times, lead_index, column)
    contact_t = _times(contact_times, contact_index, column)
    return lead_t >= contact_t  # ties (and two unknown times) go to ColdCopy


def _conflict_rows(
    pairs: pd.DataFrame,
    clash: np.ndarray,
    column: str,
    lead_v: np.ndarray,
    contact_v: np.ndarray,
    value: np.ndarray,
    lead_wins: np.ndarray,
    policy: str,
    lead_times: pd.DataFrame | None,
    contact_times: pd.DataFrame | None,
    lead_index: pd.Index,
    contact_index: pd.Index,
) -> pd.DataFrame:
    nat = np.iinfo(np.int64).min

    def stamp(values: np.ndarray) -> pd.Series:
        return pd.to_datetime(pd.Series(np.where(values == nat, np.int64(0), values)), utc=True).where(
            values != nat
        )

    lead_t = stamp(_times(lead_times, lead_index, column))
    contact_t = stamp(_times(contact_times, contact_index, column))
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


def _recanonicalise(back: dict[str, pd.Series], compiled) -> np.ndarray:
    sources = compiled.mapping.sources
    if len(sources) == 1:
        values = back[sources[0]]
    else:
        values = back[sources[0]]
        for source in sources[1:]:
            values = (values + " " + back[source]).str.strip()
    return compiled.pipeline.to_hubspot(values.reset_index(drop=True).astype(object)).to_numpy(dtype=object)


def _contact_writes(
    pairs: pd.DataFrame,
    resolved: pd.DataFrame,
    push: np.ndarray,
    columns: list[str],
    contact_known: np.ndarray,
    mapping_set: MappingSet,
) -> pd.DataFrame:
    pushed = np.array([mapping_set.by_column(c).mapping.pushes for c in columns])
    creating = pairs["hubspot_id"].isna().to_numpy() & ~contact_known
    values = resolved.to_numpy(dtype=object)  # plain arrays: pandas scalar access is slow per cell
    lead_ids, hubspot_ids = (
        pairs["lead_id"].to_numpy(dtype=object),
        pairs["hubspot_id"].to_numpy(dtype=object),
    )
    email_at = columns.index(EMAIL)
    rows = []
    for i in np.flatnonzero(push.any(axis=1) | creating):
        row = values[i]
        wanted = (pushed & (row != "")) if creating[i] else push[i]
        props = {columns[j]: row[j] for j in np.flatnonzero(wanted)}
        if not props:
            continue
        props[EMAIL] = row[email_at]
        rows.append(
            {
                "lead_id": lead_ids[i],
                "hubspot_id": hubspot_ids[i],
                "email": row[email_at],
                "properties": props,
            }
        )
    return _frame(["lead_id", "hubspot_id", "email", "properties"], rows)


def _lead_writes(
    pairs: pd.DataFrame, resolved: pd.DataFrame, pull: np.ndarray, columns: list[str], mapping_set: MappingSet
) -> pd.DataFrame:
    creating = pairs["lead_id"].astype(str).str.startswith(NEW_LEAD_PREFIX).to_numpy(dtype=bool)
    wanted = np.flatnonzero(pull.any(axis=1) | creating)
    if not len(wanted):
        return _frame(["lead_id", "hubspot_id", "fields"])
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
    return _frame(["lead_id", "hubspot_id", "fields"], out)


def _agreed_rows(pairs: pd.DataFrame, resolved: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    columns = list(resolved.columns)
    agreed = [dict(zip(columns, row, strict=True)) for row in resolved.to_numpy(dtype=object)]
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
