"""The plan's stages one by one (`build_plan` runs them in this order): pairs that end or move (merges,
archives, deletes), pairing, the fast path, the per-field merge; and `Leads`, where a lead becomes canonical.

Pure: plain frames in, plain values out. test_plan.py covers the stages together through build_plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubspot_pipeline.sync.core.field_merge import (
    Times,
    lead_wins_by_policy,
    merge_column,
    merge_fields,
    round_trip,
    sides,
)
from hubspot_pipeline.sync.core.hashing import hash_agreed
from hubspot_pipeline.sync.core.leads import Leads
from hubspot_pipeline.sync.core.mapping import FieldMapping, compile_mappings
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, TOMBSTONE
from hubspot_pipeline.sync.core.pairing import pair_records, quiet_pairs, text_frame
from hubspot_pipeline.sync.core.plan import end_archived, end_deleted, end_merged, with_tombstones
from tests.sync.helpers import canon_contacts, canon_leads, lead_rows, state_frame, times

MAPPING_SET = compile_mappings(
    [
        FieldMapping("email", "email", "bidirectional", "trim | lowercase"),
        FieldMapping("first_name", "firstname", "bidirectional", "trim"),
        FieldMapping("status", "coldcopy_lead_status", "to_hubspot"),
        FieldMapping("custom_fields.stage", "lifecyclestage", "from_hubspot"),
    ]
)


def agreed(email: str, name: str = "Ada") -> dict[str, str]:
    return {"email": email, "firstname": name, "coldcopy_lead_status": "new", "lifecyclestage": ""}


def state(rows: dict[str, dict]) -> pd.DataFrame:
    return with_tombstones(state_frame(rows, MAPPING_SET))


# --- merges, archives, deletes ---------------------------------------------------------------------------


def test_a_merge_survivor_stays_with_the_lead_whose_email_it_holds_and_the_other_pair_ends() -> None:
    pairs = state(
        {
            "L1": {"hubspot_id": "1", "agreed": agreed("a@x.com")},
            "L2": {"hubspot_id": "2", "agreed": agreed("b@x.com")},
        }
    )
    leads = pd.Series({"L1": "a@x.com", "L2": "b@x.com"})
    # Merged into a new id, 3 (HubSpot's default): no lead holds its id, so its email says which was primary.
    # (Had HubSpot kept 2's id, 2 was the primary and L2 keeps it: merge_keeper decides by identity first.)
    ends = end_merged(pairs, {"1": "3", "2": "3"}, leads, pd.Series({"3": "a@x.com"}))
    assert ends.relinks == {"L1": "3"}
    assert ends.tombstones == [{"lead_id": "L2", "hubspot_id": "3", "reason": "merged"}]
    assert ends.ended == {"L2"}
    assert ends.state.at["L1", "hubspot_id"] == "3"  # the state now points at the survivor


def test_no_merge_leaves_every_pair_as_it_was() -> None:
    pairs = state({"L1": {"hubspot_id": "1", "agreed": agreed("a@x.com")}})
    ends = end_merged(pairs, {}, pd.Series({"L1": "a@x.com"}), pd.Series(dtype=object))
    assert (ends.relinks, ends.tombstones, ends.ended) == ({}, [], set())


def test_an_archived_contact_ends_its_pair_per_the_workspace_policy() -> None:
    def ends_under(policy: str):
        pairs = state(
            {
                "L1": {"hubspot_id": "1", "agreed": agreed("a@x.com")},
                "L2": {"hubspot_id": "2", "agreed": agreed("b@x.com")},
            }
        )
        ends = end_merged(pairs, {}, pd.Series(dtype=object), pd.Series(dtype=object))
        end_archived(ends, {"1"}, policy)
        return ends

    keep, unlink, delete = ends_under("keep"), ends_under("unlink"), ends_under("delete_lead")
    assert (keep.unlinks, keep.tombstones, keep.ended) == (["L1"], [], {"L1"})
    assert unlink.tombstones == [{"lead_id": "L1", "hubspot_id": "1", "reason": "hubspot_archived"}]
    assert unlink.lead_deletes == [] and unlink.unlinks == []
    assert delete.lead_deletes == ["L1"] and len(delete.tombstones) == 1


def test_an_archive_does_not_end_a_pair_that_had_ended_already() -> None:
    pairs = state({"L1": {"hubspot_id": "1", "agreed": agreed("a@x.com") | {TOMBSTONE: "lead_deleted"}}})
    ends = end_merged(pairs, {}, pd.Series(dtype=object), pd.Series(dtype=object))
    end_archived(ends, {"1"}, "unlink")
    assert ends.tombstones == [] and ends.ended == set()


def test_a_deleted_lead_ends_its_pair_keeping_the_link_once() -> None:
    pairs = state(
        {
            "L1": {"hubspot_id": "1", "agreed": agreed("a@x.com")},
            "L2": {"hubspot_id": "2", "agreed": agreed("b@x.com") | {TOMBSTONE: "merged"}},
        }
    )
    ends = end_merged(pairs, {}, pd.Series(dtype=object), pd.Series(dtype=object))
    end_archived(ends, {"1"}, "keep")  # unlinked this run: the deletion leaves it to the unlink
    end_deleted(ends, {"L1", "L2", "L9"})
    assert ends.tombstones == []
    ends = end_merged(state({"L1": {"hubspot_id": "1", "agreed": agreed("a@x.com")}}), {}, *[pd.Series()] * 2)
    end_deleted(ends, {"L1"})
    assert ends.tombstones == [{"lead_id": "L1", "hubspot_id": "1", "reason": "lead_deleted"}]


# --- pairing and the fast path ---------------------------------------------------------------------------


def test_pairing_keeps_links_matches_by_email_and_makes_placeholders_for_new_contacts() -> None:
    leads = canon_leads(
        {"L1": {"email": "a@x.com"}, "L2": {"email": "B@x.com "}, "L3": {"email": "c@x.com"}}, MAPPING_SET
    )
    contacts = canon_contacts(
        {
            "1": {"email": "a@x.com"},
            "2": {"email": "b@x.com"},
            "3": {"email": "new@x.com", "firstname": "Nell"},
            "4": {"email": ""},
        },
        MAPPING_SET,
    )
    pairs = state({"L1": {"hubspot_id": "1", "agreed": agreed("a@x.com")}})
    pairing = pair_records(
        leads,
        contacts,
        pairs,
        syncing=pairs.index,
        linked_contacts={"1"},
        mapping_set=MAPPING_SET,
    )
    got = pairing.pairs[["lead_id", "hubspot_id", "has_agreed"]].to_dict("records")
    assert got == [
        {"lead_id": "L1", "hubspot_id": "1", "has_agreed": True},
        {"lead_id": "L2", "hubspot_id": "2", "has_agreed": False},
        {"lead_id": "L3", "hubspot_id": None, "has_agreed": False},
        {"lead_id": NEW_LEAD_PREFIX + "3", "hubspot_id": "3", "has_agreed": False},
    ]
    assert pairing.skipped == 1  # the contact without an email
    placeholder = pairing.leads.loc[NEW_LEAD_PREFIX + "3"]
    assert placeholder["email"] == "new@x.com" and placeholder["coldcopy_lead_status"] == "new"


def test_a_contact_an_ended_pair_holds_is_not_pulled_back_as_a_new_lead() -> None:
    contacts = canon_contacts({"1": {"email": "gone@x.com"}}, MAPPING_SET)
    pairs = state({"L1": {"hubspot_id": "1", "agreed": agreed("gone@x.com") | {TOMBSTONE: "lead_deleted"}}})
    pairing = pair_records(
        canon_leads({}, MAPPING_SET),
        contacts,
        pairs,
        syncing=pd.Index([]),
        linked_contacts={"1"},
        mapping_set=MAPPING_SET,
    )
    assert pairing.pairs.empty


def test_the_fast_path_skips_only_agreed_unread_pairs_whose_hash_is_unchanged_and_not_retried() -> None:
    lead = {"email": "a@x.com", "first_name": "Ada"}
    leads = canon_leads({f"L{i}": lead for i in range(4)}, MAPPING_SET)
    stored = hash_agreed([agreed("a@x.com")], MAPPING_SET.pushed_columns)[0]
    pairs = pd.DataFrame(
        {
            "lead_id": ["L0", "L1", "L2", "L3"],
            "hubspot_id": ["10", "11", "12", "13"],
            "has_agreed": [True, True, True, False],
            "retry": [False, False, True, False],
        }
    )
    hashes = pd.Series({"L0": stored, "L1": stored, "L2": stored, "L3": stored})
    frame = text_frame(leads, pd.Index(pairs["lead_id"]), MAPPING_SET.columns)
    quiet = quiet_pairs(pairs, frame, hashes, pd.Index(["11"]), MAPPING_SET)
    # L1's contact was read, L2 is retried, L3 never agreed: only L0 needs nothing
    assert quiet.tolist() == [True, False, False, False]
    changed = text_frame(
        canon_leads({"L0": lead | {"first_name": "Bo"}}, MAPPING_SET), pd.Index(["L0"]), MAPPING_SET.columns
    )
    assert not quiet_pairs(pairs.iloc[:1], changed, hashes, pd.Index([]), MAPPING_SET)[0]


# --- the per-field merge ---------------------------------------------------------------------------------


def test_merge_column_takes_the_side_that_changed_and_the_policy_on_a_clash() -> None:
    lead = np.array(["new", "A", "same", "L", "", "x"], dtype=object)
    contact = np.array(["A", "new", "same", "C", "", "y"], dtype=object)
    agreed_v = np.array(["A", "A", "A", "A", "", ""], dtype=object)
    has = np.array([True, True, True, True, False, False])
    lead_changed = np.where(has, lead != agreed_v, lead != "")
    contact_changed = np.where(has, contact != agreed_v, contact != "")
    wins = np.array([True, True, True, False, True, True])
    value, clash = merge_column(lead, contact, agreed_v, has, lead_changed, contact_changed, wins)
    assert value.tolist() == ["new", "new", "same", "C", "", "x"]
    assert clash.tolist() == [False, False, False, True, False, True]


def test_latest_compares_each_fields_own_times_and_ties_go_to_coldcopy() -> None:
    lead_t = times({"L1": {"firstname": "2026-01-02"}, "L2": {"*": "2026-01-01"}, "L3": {}})
    contact_t = times({"1": {"firstname": "2026-01-01"}, "2": {"firstname": "2026-01-03"}, "3": {}})
    index = (pd.Index(["L1", "L2", "L3"]), pd.Index(["1", "2", "3"]))
    wins = lead_wins_by_policy("latest", Times(lead_t, contact_t), *index, "firstname")
    assert wins.tolist() == [True, False, True]
    assert not lead_wins_by_policy("hubspot_wins", Times(None, None), *index, "firstname").any()
    assert lead_wins_by_policy("coldcopy_wins", Times(None, None), *index, "firstname").all()


def test_a_pulled_value_is_stored_as_hubspot_will_see_the_lead_again() -> None:
    mapping_set = compile_mappings(
        [
            FieldMapping("email", "email"),
            FieldMapping("first_name", "firstname", "bidirectional", "trim | lowercase"),
        ]
    )
    compiled = mapping_set.by_column("firstname")
    value = round_trip(
        np.array(["  Ada ", "bo"], dtype=object), np.array(["x", "bo"], dtype=object), compiled
    )
    assert value.tolist() == ["ada", "bo"]


def test_merge_fields_pushes_to_hubspot_fields_pulls_from_hubspot_ones_and_records_conflicts() -> None:
    pairs = pd.DataFrame({"lead_id": ["L1"], "hubspot_id": ["1"], "has_agreed": [True], "retry": [False]})
    leads = canon_leads(
        {"L1": {"email": "a@x.com", "first_name": "Lead", "status": "won", "custom_fields": {"stage": "x"}}},
        MAPPING_SET,
    )
    contacts = canon_contacts(
        {
            "1": {
                "email": "a@x.com",
                "firstname": "Hub",
                "coldcopy_lead_status": "lost",
                "lifecyclestage": "customer",
            }
        },
        MAPPING_SET,
    )
    frame = text_frame(leads, pd.Index(pairs["lead_id"]), MAPPING_SET.columns)
    values = sides(pairs, frame, contacts, pd.Series({"L1": agreed("a@x.com")}), MAPPING_SET.columns)
    merged = merge_fields(pairs, values, MAPPING_SET, Times(None, None))
    resolved = merged.resolved.iloc[0].to_dict()
    assert resolved == {
        "email": "a@x.com",
        "firstname": "Lead",  # a clash under latest with no times: ColdCopy's
        "coldcopy_lead_status": "won",  # to_hubspot: the lead's, HubSpot's edit left alone
        "lifecyclestage": "customer",  # from_hubspot: HubSpot's
    }
    columns = MAPPING_SET.columns
    assert [c for c, p in zip(columns, merged.push[0], strict=True) if p] == [
        "firstname",
        "coldcopy_lead_status",
    ]
    assert [c for c, p in zip(columns, merged.pull[0], strict=True) if p] == ["lifecyclestage"]
    assert merged.conflicts[["field", "winner", "policy"]].to_dict("records") == [
        {"field": "firstname", "winner": "coldcopy", "policy": "latest"}
    ]


def test_a_contact_not_read_holds_the_agreed_values() -> None:
    pairs = pd.DataFrame({"lead_id": ["L1"], "hubspot_id": ["1"], "has_agreed": [True], "retry": [True]})
    frame = text_frame(
        canon_leads({"L1": {"email": "a@x.com"}}, MAPPING_SET), pd.Index(["L1"]), MAPPING_SET.columns
    )
    values = sides(
        pairs,
        frame,
        canon_contacts({}, MAPPING_SET),
        pd.Series({"L1": agreed("a@x.com")}),
        MAPPING_SET.columns,
    )
    assert values.contact.iloc[0].to_dict() == agreed("a@x.com")
    assert values.contact_read.tolist() == [False] and values.has_agreed.tolist() == [True]


# --- Leads: the one place a lead becomes canonical -------------------------------------------------------


def test_leads_keep_raw_rows_and_canonical_columns_together() -> None:
    raw = lead_rows({"L1": {"email": " A@X.com "}, "L2": {"email": "b@x.com"}}).assign(deleted=[False, True])
    leads = Leads.of(raw, MAPPING_SET)
    assert leads.canonical.loc["L1", "email"] == "a@x.com"
    assert list(leads.live().index) == ["L1"]
    both = Leads.union([leads.where(np.array([False, True])), leads])
    assert list(both.ids) == ["L2", "L1"] and list(both.canonical.index) == ["L2", "L1"]
