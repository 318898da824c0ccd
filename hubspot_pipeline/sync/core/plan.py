"""The 3-way plan: from the leads, the HubSpot contacts and the last agreed state, what to push, what to
pull, which conflicts were resolved how, and the state to record once the writes succeed.

`build_plan` runs the stages in order, each a function of its own with its own tests
(tests/sync/test_plan_stages.py): pairs that end or move (merges, archives, deletes: this module), pairing
and the fast path (pairing.py), the per-field merge (field_merge.py), the rows to write (plan_rows.py).

A `to_hubspot` field only ever flows to HubSpot (HubSpot edits are left alone), a `from_hubspot` field only
into the lead. A contact not read this run is assumed to hold the agreed values: that is what makes an
incremental run cheap and what makes HubSpot echoes of our own writes no-ops. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.field_merge import CONFLICT_COLUMNS, Times, merge_fields, sides
from hubspot_pipeline.sync.core.mapping import EMAIL, MappingSet
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, TOMBSTONE
from hubspot_pipeline.sync.core.pairing import pair_records, quiet_pairs, text_frame
from hubspot_pipeline.sync.core.plan_rows import agreed_rows, contact_writes, empty_frame, lead_writes

NUL = "\x00"  # HubSpot stores it in a property; PostgreSQL's text and jsonb refuse it
REFUSED_COLUMNS = ["lead_id", "hubspot_id", "error"]  # Plan.refused


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
    # lead_id (or placeholder), hubspot_id, error: pairs left alone this run, their values unstorable (NUL)
    refused: pd.DataFrame = field(default_factory=lambda: empty_frame(REFUSED_COLUMNS))
    unchanged: int = 0
    skipped_contacts: int = 0  # HubSpot contacts without an email: nothing to match them with
    skipped_erased: int = 0  # leads and contacts left alone: their email's person was erased (privacy/)

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
            "refused": len(self.refused),
            "unchanged": self.unchanged,
            "skipped_contacts": self.skipped_contacts,
            "skipped_erased": self.skipped_erased,
        }


@dataclass
class Ends:
    """Pairs that end or move before pairing: the state with merge survivors relinked, and what to record."""

    state: pd.DataFrame
    tombstones: list[dict] = field(default_factory=list)  # lead_id, hubspot_id, reason
    lead_deletes: list[str] = field(default_factory=list)
    unlinks: list[str] = field(default_factory=list)
    relinks: dict[str, str] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)  # lead ids not synced this run: tombstoned or unlinked


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
    merge_primaries: Mapping[str, str] | None = None,
    additional_emails: Mapping[str, Collection[str]] | None = None,
    on_hubspot_archive: str = "unlink",
    pull_new: bool = True,
) -> Plan:
    """Plan one sync of a batch of pairs: leads and contacts, or ColdCopy's and HubSpot's companies (the
    same stages, keyed by `mapping_set.key`: the email, or the domain).

    leads: canonical leads (core.leads.Leads), index lead id; every lead that changed, that is in the
      retry index, or whose contact was read (by link or by email), may include unchanged ones.
    contacts: canonical contacts read this run (mapping.canonical_contacts), index HubSpot id.
    state: `hubspot_sync_status` rows for those leads, index lead id, columns STATE_COLUMNS (+ `tombstone`
      optional); `agreed` may be None where `sync_hash` matches the lead (it is then not looked at).
    lead_times / contact_times: per-field change times (UTC) by canonical column, ROW_TIME as fallback.
    deleted_leads: lead ids deleted in ColdCopy. archived_contacts: HubSpot ids archived (deleted) there.
    merges: HubSpot id merged away -> id it was merged into (chains are followed).
    merge_primaries: survivor -> the primary of its merge (merge events); additional_emails: survivor ->
      its hs_additional_emails (the merged-away contacts' emails). Both say which lead keeps a survivor.
    pull_new: a free HubSpot record with a key no ColdCopy record has becomes one (contacts); False
      leaves it alone (companies: ColdCopy keeps the companies of its leads).
    Over 80 lines only by these parameter notes: each stage it runs is a function of its own.
    """
    key = mapping_set.key
    archived = {str(a) for a in archived_contacts}
    deleted = {str(d) for d in deleted_leads}
    ends = end_merged(
        with_tombstones(state),
        dict(merges or {}),
        leads[key],
        contacts[key],
        key=key,
        primaries=merge_primaries,
        additional_emails=additional_emails,
    )
    end_archived(ends, archived, on_hubspot_archive)
    end_deleted(ends, deleted)
    state, ended = ends.state, ends.ended
    tombstoned = state.index[state["tombstone"].notna()]
    syncing = state.index[
        state["tombstone"].isna() & ~state.index.isin(ended) & ~state.index.isin(ends.unlinks)
    ]
    leads = leads[~leads.index.isin(deleted) & ~leads.index.isin(ended) & ~leads.index.isin(tombstoned)]
    pairing = pair_records(
        leads,
        contacts[~contacts.index.isin(archived)],
        state,
        syncing=syncing,
        linked_contacts=set(state["hubspot_id"].dropna().astype(str)),
        mapping_set=mapping_set,
        pull_new=pull_new,
    )
    columns = mapping_set.columns
    pairs = pairing.pairs
    lead_frame = text_frame(pairing.leads, pd.Index(pairs["lead_id"]), columns)
    quiet = quiet_pairs(pairs, lead_frame, state["sync_hash"], contacts.index, mapping_set)
    pairs, lead_frame = pairs[~quiet].reset_index(drop=True), lead_frame[~quiet].reset_index(drop=True)
    values = sides(pairs, lead_frame, contacts, state["agreed"], columns)
    merged = merge_fields(pairs, values, mapping_set, Times(lead_times, contact_times))
    plan_pairs = pairs.assign(**{key: merged.resolved[key].to_numpy()})
    plan = Plan(
        contact_writes=contact_writes(
            plan_pairs,
            merged.resolved,
            merged.push,
            columns,
            values.contact_read | pairs["has_agreed"].to_numpy(),
            mapping_set,
        ),
        lead_writes=lead_writes(plan_pairs, merged.resolved, merged.pull, columns, mapping_set),
        conflicts=merged.conflicts if len(merged.conflicts) else empty_frame(CONFLICT_COLUMNS),
        agreed=agreed_rows(plan_pairs, merged.resolved, mapping_set),
        tombstones=empty_frame(["lead_id", "hubspot_id", "reason"], ends.tombstones),
        lead_deletes=ends.lead_deletes,
        unlinks=ends.unlinks,
        relinks=ends.relinks,
        unchanged=int(quiet.sum()),
        skipped_contacts=pairing.skipped,
    )
    return refuse_nul(plan, plan_pairs, merged.resolved, mapping_set)


def with_tombstones(state: pd.DataFrame) -> pd.DataFrame:
    """A copy of the state with HubSpot ids as objects (None when missing) and a `tombstone` column (the
    reason an ended pair ended, else None) unless it has one."""
    state = state.copy().astype({"hubspot_id": object})
    state["hubspot_id"] = state["hubspot_id"].where(state["hubspot_id"].notna(), None)
    if "tombstone" not in state:
        state["tombstone"] = [
            (a or {}).get(TOMBSTONE) if isinstance(a, dict) else None for a in state.get("agreed", [])
        ]
    return state


def end_merged(
    state: pd.DataFrame,
    merges: Mapping[str, str],
    lead_emails: pd.Series,
    contact_emails: pd.Series,
    *,
    key: str = EMAIL,
    primaries: Mapping[str, str] | None = None,
    additional_emails: Mapping[str, Collection[str]] | None = None,
) -> Ends:
    """Merges: each live link followed to the surviving contact; of the leads on one survivor one keeps it
    (relinked), the others' pairs end (re-pushing them would re-create the contacts HubSpot merged away).
    `state` (from with_tombstones) is updated in place with the relinks. The "emails" are the records'
    keys (`key`: the email, or a company's domain)."""
    if not merges:
        return Ends(state)  # no merge learnt this run: every link stays as it is
    live = state[state["tombstone"].isna() & state["hubspot_id"].notna()]
    evidence = MergeEvidence(
        dict(primaries or {}),
        {str(k): frozenset(v) for k, v in (additional_emails or {}).items()},
        {str(i): str(a.get(key) or "") for i, a in live["agreed"].items() if isinstance(a, Mapping)},
        lead_emails.to_dict(),
        contact_emails.to_dict(),
    )
    relinks, merged_away = merge_keepers(live["hubspot_id"], merges, evidence)
    for lead_id, survivor in relinks.items():
        state.loc[lead_id, "hubspot_id"] = survivor
    tombstones = [{"lead_id": i, "hubspot_id": s, "reason": "merged"} for i, s in merged_away.items()]
    return Ends(state, tombstones, relinks=relinks, ended=set(merged_away))


def end_archived(ends: Ends, archived: Collection[str], on_hubspot_archive: str) -> None:
    """Contacts archived in HubSpot, per the workspace's choice: `keep` forgets the pair (the lead may pair
    again from the next run), `unlink` ends it, `delete_lead` ends it and soft-deletes the lead."""
    state, ended = ends.state, ends.ended
    if not archived:
        return
    for lead_id, hubspot_id in state["hubspot_id"].items():
        if str(hubspot_id) not in archived or lead_id in ended or pd.notna(state.at[lead_id, "tombstone"]):
            continue
        if on_hubspot_archive == "keep":
            ends.unlinks.append(lead_id)
        else:
            ends.tombstones.append(
                {"lead_id": lead_id, "hubspot_id": str(hubspot_id), "reason": "hubspot_archived"}
            )
            if on_hubspot_archive == "delete_lead":
                ends.lead_deletes.append(lead_id)
        ended.add(lead_id)


def end_deleted(ends: Ends, deleted: Collection[str]) -> None:
    """Leads deleted in ColdCopy: their pairs end, keeping the link so the contact is not pulled back as a new
    lead. A pair already ended (this run or before) is left as it is."""
    state, ended = ends.state, ends.ended
    for lead_id in sorted(set(deleted) & set(state.index)):
        if lead_id not in ended and pd.isna(state.at[lead_id, "tombstone"]):
            ends.tombstones.append(
                {"lead_id": lead_id, "hubspot_id": state.at[lead_id, "hubspot_id"], "reason": "lead_deleted"}
            )
            ended.add(lead_id)


def _follow(merges: Mapping[str, str], hubspot_id: str) -> str:
    seen = set()
    while hubspot_id in merges and hubspot_id not in seen:
        seen.add(hubspot_id)
        hubspot_id = merges[hubspot_id]
    return hubspot_id


@dataclass(frozen=True)
class MergeEvidence:
    """What tells which lead keeps a contact HubSpot merged, by HubSpot id or lead id."""

    primaries: Mapping[str, str]  # survivor -> primary of its merge (merge events)
    additional_emails: Mapping[str, Collection[str]]  # survivor -> emails of the contacts merged into it
    agreed_emails: Mapping[str, str]  # lead -> email the pair last agreed on
    lead_emails: Mapping[str, str]  # lead -> current canonical email (leads read)
    contact_emails: Mapping[str, str]  # contact -> current canonical email (contacts read)


def merge_keepers(
    links: pd.Series, merges: Mapping[str, str], evidence: MergeEvidence
) -> tuple[dict[str, str], dict[str, str]]:
    """After HubSpot merges contacts: which lead keeps each surviving contact, which leads' pairs end.

    links: the live pairs' HubSpot ids by lead id. The survivor stays with the primary's lead, found by
    identity first (merge_keeper), since either side may have changed an email before this run.
    Returns (lead id -> survivor to relink, lead id -> survivor of pairs to end).
    """
    link_of = {str(lead_id): str(hubspot_id) for lead_id, hubspot_id in links.items()}  # not Series lookups
    claims: dict[str, list[str]] = {}
    for lead_id, hubspot_id in link_of.items():
        claims.setdefault(_follow(merges, hubspot_id), []).append(lead_id)
    relinks: dict[str, str] = {}
    ended: dict[str, str] = {}
    for survivor, claimants in claims.items():
        if not any(link_of[i] in merges for i in claimants):
            continue  # no merge on this contact
        keeper = merge_keeper(survivor, claimants, {i: link_of[i] for i in claimants}, evidence)
        if link_of[keeper] != survivor:
            relinks[keeper] = survivor
        ended.update({i: survivor for i in claimants if i != keeper})
    return relinks, ended


def merge_keeper(
    survivor: str, claimants: list[str], links: Mapping[str, str], evidence: MergeEvidence
) -> str:
    """Of the leads whose contacts were merged into `survivor`, the one that keeps it, strongest evidence
    first: the lead linked to the survivor's id (the primary's id was kept) or, by the merge events, to its
    primary (followed down a chain of merges); the lead whose last agreed email the survivor holds
    (HubSpot keeps the primary's); the only leads whose agreed email is not among the survivor's
    additional emails (where the merged-away contacts' emails go); the lead whose current email the
    survivor holds; else the first."""
    by_contact = {hubspot_id: lead_id for lead_id, hubspot_id in reversed(list(links.items()))}
    node, seen = survivor, set()
    while node not in seen:
        seen.add(node)
        if node in by_contact:
            return by_contact[node]
        if node not in evidence.primaries:
            break
        node = str(evidence.primaries[node])
    email = evidence.contact_emails.get(survivor, "")
    agreed = {i: evidence.agreed_emails.get(i, "") for i in claimants}
    additional = evidence.additional_emails.get(survivor, ())
    for chosen in (
        [i for i in claimants if email and agreed[i] == email],
        [i for i in claimants if additional and agreed[i] and agreed[i] not in additional],
        [i for i in claimants if email and evidence.lead_emails.get(i) == email],
    ):
        if chosen:
            return chosen[0]
    return claimants[0]


def refuse_nul(plan: Plan, pairs: pd.DataFrame, resolved: pd.DataFrame, mapping_set: MappingSet) -> Plan:
    """Leaves out of the plan every pair whose resolved values (or conflict values) hold a NUL character,
    which PostgreSQL cannot store in a lead, its state or a conflict: one such value must fail its own pair,
    named with its lead and field, not the run's transaction. `pairs` and `resolved` are row-aligned."""
    bad: dict[int, list[str]] = {}
    for column in resolved.columns:
        values = resolved[column].to_numpy(dtype=object)
        if NUL in _joined_text(values):  # one C-speed scan per column
            for row in np.flatnonzero([isinstance(v, str) and NUL in v for v in values]):
                bad.setdefault(int(row), []).append(column)
    lead_ids = pairs["lead_id"].astype(str).to_numpy()
    for column in ("coldcopy_value", "hubspot_value"):  # a value that lost its conflict is recorded too
        for lead_id, name in plan.conflicts.loc[
            plan.conflicts[column].astype(str).str.contains(NUL), ["lead_id", "field"]
        ].itertuples(index=False):
            for row in np.flatnonzero(lead_ids == str(lead_id)):
                bad.setdefault(int(row), []).append(str(name))
    if not bad:
        return plan
    rows = []
    for at, columns in sorted(bad.items()):
        lead_id, hubspot_id = lead_ids[at], pairs["hubspot_id"].iloc[at]
        fields = ", ".join(
            f"{mapping_set.by_column(c).mapping.coldcopy_field} (HubSpot {c})" for c in dict.fromkeys(columns)
        )
        email = str(resolved[mapping_set.key].iloc[at]).replace(NUL, "\\x00")
        if lead_id.startswith(NEW_LEAD_PREFIX):
            error = (
                f"HubSpot contact {hubspot_id} ({email}) is not made a lead: {fields} holds a NUL character "
                "(\\x00), which PostgreSQL cannot store; remove it in HubSpot and the next run creates the lead"
            )
        else:
            error = (
                f"lead {lead_id} ({email}): {fields} holds a NUL character (\\x00) from HubSpot contact "
                f"{hubspot_id or '(new)'}, which PostgreSQL cannot store; remove it in HubSpot, then the sync "
                "retries"
            )
        rows.append({"lead_id": lead_id, "hubspot_id": hubspot_id, "error": error})
    refused = empty_frame(REFUSED_COLUMNS, rows)
    out = set(refused["lead_id"])

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["lead_id"].astype(str).isin(out)].reset_index(drop=True)

    plan.contact_writes, plan.lead_writes = keep(plan.contact_writes), keep(plan.lead_writes)
    plan.conflicts, plan.agreed, plan.refused = keep(plan.conflicts), keep(plan.agreed), refused
    return plan


def _joined_text(values: np.ndarray) -> str:
    """The column's text values joined (non-text ones left out): a plain join of a list when every value
    is text, which is the usual case, and far faster than a generator that checks each value."""
    as_list = values.tolist()
    try:
        return "".join(as_list)
    except TypeError:
        return "".join(v for v in as_list if isinstance(v, str))
