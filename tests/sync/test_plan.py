"""The 3-way plan, case by case: new on either side, changed on one side, changed on both (same value,
different values under each policy), deleted, archived, merged, failed earlier, unchanged, one-way fields.

Pure: no database, no HubSpot. The engine that applies a plan is covered by test_engine_*.py.
"""

from __future__ import annotations

import pytest

from hubspot_pipeline.sync.core.mapping import FieldMapping, compile_mappings
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, TOMBSTONE
from hubspot_pipeline.sync.core.plan import build_plan
from tests.sync.helpers import canon_contacts, canon_leads, state_frame, times

MAPPINGS = [
    FieldMapping("email", "email", "bidirectional", "trim | lowercase"),
    FieldMapping("first_name", "firstname", "bidirectional", "trim"),
    FieldMapping("title", "jobtitle", "bidirectional"),
    FieldMapping("status", "coldcopy_lead_status", "to_hubspot"),
    FieldMapping("custom_fields.stage", "lifecyclestage", "from_hubspot"),
]
AGREED = {
    "email": "ada@example.com",
    "firstname": "Ada",
    "jobtitle": "CTO",
    "coldcopy_lead_status": "new",
    "lifecyclestage": "lead",
}
LEAD = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "title": "CTO",
    "status": "new",
    "custom_fields": {"stage": "lead"},
}
CONTACT = {
    "email": "ada@example.com",
    "firstname": "Ada",
    "jobtitle": "CTO",
    "coldcopy_lead_status": "new",
    "lifecyclestage": "lead",
}


def plan_for(leads=None, contacts=None, state=None, policy="latest", **kwargs):
    mapping_set = compile_mappings(MAPPINGS, default_policy=policy)
    return build_plan(
        canon_leads(leads or {}, mapping_set),
        canon_contacts(contacts or {}, mapping_set),
        state_frame(state or {}, mapping_set),
        mapping_set,
        **kwargs,
    )


def linked(**agreed_changes):
    return {"L1": {"hubspot_id": "101", "agreed": AGREED | agreed_changes}}


def test_a_new_lead_is_pushed_whole_by_email():
    plan = plan_for(leads={"L1": LEAD})
    [write] = plan.contact_writes.to_dict("records")
    assert write["hubspot_id"] is None and write["email"] == "ada@example.com"
    assert write["properties"] == {
        "email": "ada@example.com",
        "firstname": "Ada",
        "jobtitle": "CTO",
        "coldcopy_lead_status": "new",
    }
    assert plan.lead_writes.empty and plan.conflicts.empty
    assert plan.agreed.iloc[0]["agreed"]["lifecyclestage"] == ""  # HubSpot holds nothing there yet


def test_a_new_hubspot_contact_becomes_a_lead_and_gets_the_lead_status():
    plan = plan_for(
        contacts={"201": {"email": "Grace@Example.com", "firstname": "Grace", "lifecyclestage": "customer"}}
    )
    [lead] = plan.lead_writes.to_dict("records")
    assert lead["lead_id"] == NEW_LEAD_PREFIX + "201"
    assert lead["fields"] == {
        "email": "grace@example.com",
        "first_name": "Grace",
        "custom_fields.stage": "customer",
    }
    [write] = plan.contact_writes.to_dict("records")
    assert write["hubspot_id"] == "201" and write["properties"] == {
        "coldcopy_lead_status": "new",
        "email": "grace@example.com",
    }


def test_a_contact_without_email_is_skipped_not_created():
    plan = plan_for(contacts={"202": {"email": "", "firstname": "Nobody"}})
    assert plan.lead_writes.empty and plan.skipped_contacts == 1


def test_a_lead_and_a_contact_meeting_for_the_first_time_fill_each_others_blanks():
    plan = plan_for(leads={"L1": LEAD | {"title": None}}, contacts={"101": CONTACT | {"firstname": ""}})
    [write] = plan.contact_writes.to_dict("records")
    assert write["hubspot_id"] == "101" and write["properties"] == {
        "firstname": "Ada",
        "email": "ada@example.com",
    }
    [lead] = plan.lead_writes.to_dict("records")
    assert lead["fields"] == {"title": "CTO"}
    assert plan.conflicts.empty


@pytest.mark.parametrize(
    ("policy", "lead_time", "contact_time", "winner", "value"),
    [
        ("latest", "2026-01-02", "2026-01-01", "coldcopy", "Augusta"),
        ("latest", "2026-01-01", "2026-01-02", "hubspot", "Ada L."),
        ("latest", "2026-01-01", "2026-01-01", "coldcopy", "Augusta"),  # a tie goes to ColdCopy
        ("coldcopy_wins", "2026-01-01", "2026-01-02", "coldcopy", "Augusta"),
        ("hubspot_wins", "2026-01-02", "2026-01-01", "hubspot", "Ada L."),
    ],
)
def test_a_field_changed_on_both_sides_differently_is_a_recorded_conflict(
    policy, lead_time, contact_time, winner, value
):
    plan = plan_for(
        leads={"L1": LEAD | {"first_name": "Augusta"}},
        contacts={"101": CONTACT | {"firstname": "Ada L."}},
        state=linked(),
        policy=policy,
        lead_times=times({"L1": {"firstname": lead_time}}),
        contact_times=times({"101": {"firstname": contact_time}}),
    )
    [conflict] = plan.conflicts.to_dict("records")
    assert (conflict["field"], conflict["coldcopy_value"], conflict["hubspot_value"]) == (
        "firstname",
        "Augusta",
        "Ada L.",
    )
    assert (conflict["policy"], conflict["winner"], conflict["resolved_value"]) == (policy, winner, value)
    assert plan.agreed.iloc[0]["agreed"]["firstname"] == value
    if winner == "coldcopy":
        assert plan.contact_writes.iloc[0]["properties"] == {"firstname": value, "email": "ada@example.com"}
        assert plan.lead_writes.empty
    else:
        assert plan.lead_writes.iloc[0]["fields"] == {"first_name": value}
        assert plan.contact_writes.empty


def test_latest_uses_each_fields_own_time_over_the_row_time():
    plan = plan_for(
        leads={"L1": LEAD | {"first_name": "Augusta"}},
        contacts={"101": CONTACT | {"firstname": "Ada L."}},
        state=linked(),
        lead_times=times({"L1": {"firstname": "2026-01-03", "*": "2026-01-01"}}),
        contact_times=times({"101": {"*": "2026-01-02"}}),
    )
    assert plan.conflicts.iloc[0]["winner"] == "coldcopy"


def test_changes_on_different_fields_merge_field_by_field_without_conflict():
    plan = plan_for(
        leads={"L1": LEAD | {"first_name": "Augusta"}},
        contacts={"101": CONTACT | {"jobtitle": "CEO"}},
        state=linked(),
    )
    assert plan.contact_writes.iloc[0]["properties"] == {"firstname": "Augusta", "email": "ada@example.com"}
    assert plan.lead_writes.iloc[0]["fields"] == {"title": "CEO"}
    assert plan.conflicts.empty
    assert plan.agreed.iloc[0]["agreed"] | {} == AGREED | {"firstname": "Augusta", "jobtitle": "CEO"}


def test_the_same_change_on_both_sides_writes_nothing_and_is_no_conflict():
    plan = plan_for(
        leads={"L1": LEAD | {"title": "CEO"}}, contacts={"101": CONTACT | {"jobtitle": "CEO"}}, state=linked()
    )
    assert plan.contact_writes.empty and plan.lead_writes.empty and plan.conflicts.empty
    assert plan.agreed.iloc[0]["agreed"]["jobtitle"] == "CEO"


def test_an_unchanged_pair_is_skipped_by_its_hash():
    plan = plan_for(leads={"L1": LEAD}, state=linked())
    assert plan.unchanged == 1 and plan.contact_writes.empty and plan.lead_writes.empty and plan.agreed.empty


def test_hubspot_echoing_our_own_write_back_is_a_no_op():
    plan = plan_for(leads={"L1": LEAD}, contacts={"101": CONTACT}, state=linked())
    assert plan.contact_writes.empty and plan.lead_writes.empty and plan.conflicts.empty


def test_a_lead_change_is_pushed_alone_and_a_contact_change_pulled_alone():
    plan = plan_for(leads={"L1": LEAD | {"title": "CEO"}}, state=linked())
    assert plan.contact_writes.iloc[0]["properties"] == {"jobtitle": "CEO", "email": "ada@example.com"}
    assert plan.contact_writes.iloc[0]["hubspot_id"] == "101"
    plan = plan_for(leads={"L1": LEAD}, contacts={"101": CONTACT | {"jobtitle": "CEO"}}, state=linked())
    assert plan.lead_writes.iloc[0]["fields"] == {"title": "CEO"} and plan.contact_writes.empty


def test_one_way_fields_flow_one_way_only():
    # HubSpot edits a to_hubspot field and the lead edits a from_hubspot field: neither is copied back.
    plan = plan_for(
        leads={"L1": LEAD | {"custom_fields": {"stage": "mine"}}},
        contacts={"101": CONTACT | {"coldcopy_lead_status": "edited"}},
        state=linked(),
    )
    assert plan.contact_writes.empty and plan.lead_writes.empty
    plan = plan_for(
        leads={"L1": LEAD | {"status": "replied"}},
        contacts={"101": CONTACT | {"lifecyclestage": "customer"}},
        state=linked(),
    )
    assert plan.contact_writes.iloc[0]["properties"] == {
        "coldcopy_lead_status": "replied",
        "email": "ada@example.com",
    }
    assert plan.lead_writes.iloc[0]["fields"] == {"custom_fields.stage": "customer"}


def test_a_deleted_lead_is_tombstoned_and_its_contact_never_comes_back_as_a_new_lead():
    plan = plan_for(contacts={"101": CONTACT | {"jobtitle": "CEO"}}, state=linked(), deleted_leads={"L1"})
    assert plan.tombstones.to_dict("records") == [
        {"lead_id": "L1", "hubspot_id": "101", "reason": "lead_deleted"}
    ]
    assert plan.lead_writes.empty and plan.contact_writes.empty
    state = {"L1": {"hubspot_id": "101", "agreed": AGREED | {TOMBSTONE: "lead_deleted"}}}
    later = plan_for(contacts={"101": CONTACT | {"jobtitle": "CFO"}}, state=state)
    assert later.lead_writes.empty and later.contact_writes.empty and later.tombstones.empty


@pytest.mark.parametrize("choice", ["unlink", "delete_lead", "keep"])
def test_an_archived_contact_is_handled_as_the_workspace_chose_and_never_recreated(choice):
    plan = plan_for(
        leads={"L1": LEAD | {"title": "CEO"}},
        state=linked(),
        archived_contacts={"101"},
        on_hubspot_archive=choice,
    )
    assert plan.contact_writes.empty
    if choice == "keep":
        assert plan.unlinks == ["L1"] and plan.tombstones.empty
    else:
        assert plan.tombstones.iloc[0]["reason"] == "hubspot_archived"
        assert plan.lead_deletes == (["L1"] if choice == "delete_lead" else [])


def test_a_merged_contact_is_followed_to_its_survivor():
    plan = plan_for(
        leads={"L1": LEAD | {"title": "CEO"}}, state=linked(), merges={"101": "150", "150": "300"}
    )
    assert plan.relinks == {"L1": "300"}
    assert plan.contact_writes.iloc[0]["hubspot_id"] == "300"


def test_two_leads_merged_into_one_contact_keep_one_link_and_retire_the_other():
    state = {
        "L1": {"hubspot_id": "101", "agreed": AGREED},
        "L2": {"hubspot_id": "102", "agreed": AGREED | {"email": "ada.l@example.com"}},
    }
    plan = plan_for(
        leads={"L1": LEAD, "L2": LEAD | {"email": "ada.l@example.com", "title": "CEO"}},
        state=state,
        merges={"102": "101"},
    )
    assert plan.tombstones.to_dict("records") == [{"lead_id": "L2", "hubspot_id": "101", "reason": "merged"}]
    assert plan.contact_writes.empty  # L2 is not pushed: that would re-create the contact HubSpot merged away


BEA = {"email": "bea@example.com", "firstname": "Bea"}


@pytest.mark.parametrize("order", ["primary's lead first", "primary's lead second"])
@pytest.mark.parametrize(
    "history",
    [
        "survivor renamed, merge event",
        "survivor renamed, additional emails",
        "primary's lead renamed",
        "chain, merge events",
    ],
)
def test_a_merge_keeps_the_primary_s_lead_by_ids_and_agreed_emails_not_current_ones(order, history):
    # L2 (contact 102, bea@) is the primary; L1 (101, ada@) is merged into it: survivor 300. People then
    # change an email before the sync sees the merge, so no current email names the primary's lead.
    state = {
        "L1": {"hubspot_id": "101", "agreed": AGREED},
        "L2": {"hubspot_id": "102", "agreed": AGREED | BEA},
    }
    leads = {"L1": LEAD, "L2": LEAD | {"email": "bea@example.com", "first_name": "Bea"}}
    survivor = CONTACT | BEA
    merges, facts = {"101": "300", "102": "300"}, {}
    if history.startswith("survivor renamed"):
        survivor = survivor | {"email": "bea.new@example.com"}
    if history.endswith("merge event"):
        facts["merge_primaries"] = {"300": "102"}
    if history.endswith("additional emails"):
        facts["additional_emails"] = {"300": {"ada@example.com"}}
    if history == "primary's lead renamed":
        leads["L2"] = leads["L2"] | {"email": "bea.b@example.com"}
    if history.startswith("chain"):  # 101 and 102 merged (primary 101) into 200, then 200 into 103 as 300
        state["L3"] = {"hubspot_id": "103", "agreed": AGREED | {"email": "cy@example.com"}}
        leads["L3"] = LEAD | {"email": "cy@example.com"}
        merges = {"101": "200", "102": "200", "200": "300", "103": "300"}
        facts["merge_primaries"] = {"200": "101", "300": "103"}
        survivor = survivor | {"email": "cy.new@example.com"}
    if order == "primary's lead second":
        state, leads = dict(reversed(state.items())), dict(reversed(leads.items()))
    plan = plan_for(leads=leads, contacts={"300": survivor}, state=state, merges=merges, **facts)

    keeper = "L3" if history.startswith("chain") else "L2"
    assert plan.relinks == {keeper: "300"}
    assert set(plan.tombstones["lead_id"]) == set(state) - {keeper}
    assert set(plan.tombstones["reason"]) == {"merged"}
    assert set(plan.agreed["lead_id"]) == {keeper}


def test_a_failed_row_is_retried_even_when_its_hash_is_unchanged():
    # The pull failed last run; the lead still equals the agreed values, so only the retry index brings it back.
    state = {"L1": {"hubspot_id": "101", "agreed": AGREED, "status": "error"}}
    plan = plan_for(leads={"L1": LEAD}, contacts={"101": CONTACT | {"jobtitle": "CEO"}}, state=state)
    assert plan.lead_writes.iloc[0]["fields"] == {"title": "CEO"}
    assert bool(plan.agreed.iloc[0]["retry"]) is True
    # Not re-read and nothing differs: still not fast-pathed, so its state is rewritten as synced.
    plan = plan_for(leads={"L1": LEAD}, state=state)
    assert plan.unchanged == 0 and len(plan.agreed) == 1 and plan.contact_writes.empty


def test_a_failed_create_is_pushed_again_whole():
    state = {"L1": {"hubspot_id": None, "agreed": None, "status": "error", "sync_hash": None}}
    plan = plan_for(leads={"L1": LEAD}, state=state)
    assert plan.contact_writes.iloc[0]["hubspot_id"] is None
    assert set(plan.contact_writes.iloc[0]["properties"]) == {
        "email",
        "firstname",
        "jobtitle",
        "coldcopy_lead_status",
    }


def test_a_pulled_value_is_normalised_the_way_the_transform_would_and_sent_back():
    mappings = [
        *MAPPINGS[:1],
        FieldMapping("first_name", "firstname", "bidirectional", "title_case"),
        *MAPPINGS[2:],
    ]
    mapping_set = compile_mappings(mappings)
    from tests.sync.helpers import canon_contacts as cc
    from tests.sync.helpers import canon_leads as cl
    from tests.sync.helpers import state_frame as sf

    plan = build_plan(
        cl({"L1": LEAD}, mapping_set),
        cc({"101": CONTACT | {"firstname": "grace"}}, mapping_set),
        sf(linked(), mapping_set),
        mapping_set,
    )
    assert plan.lead_writes.iloc[0]["fields"] == {"first_name": "Grace"}
    assert plan.contact_writes.iloc[0]["properties"] == {"firstname": "Grace", "email": "ada@example.com"}
    assert plan.agreed.iloc[0]["agreed"]["firstname"] == "Grace"


def test_the_counts_add_up():
    plan = plan_for(
        leads={"L1": LEAD | {"title": "CEO"}, "L2": LEAD | {"email": "b@example.com"}},
        contacts={"201": {"email": "c@example.com"}},
        state=linked(),
    )
    counts = plan.counts()
    assert (counts["push"], counts["push_new"], counts["pull"], counts["pull_new"]) == (3, 1, 1, 1)
