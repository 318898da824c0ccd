"""Which pairs of a plan are recorded page by page while the push goes on (core/pages.py), and the push
calls a plan's contact writes make. Pure: plans from build_plan, no database, no HubSpot. The engine that
pushes and records them is covered by test_paged_push.py."""

from __future__ import annotations

from hubspot_pipeline.sync.core.pages import only_pairs, paged_ids, push_units, without_pairs
from tests.sync.test_plan import AGREED, CONTACT, LEAD, plan_for


def lead(n: int, **changes) -> dict:
    return LEAD | {"email": f"p{n}@example.com"} | changes


def pair(n: int) -> dict:
    return {"hubspot_id": str(100 + n), "agreed": AGREED | {"email": f"p{n}@example.com"}}


def contact(n: int, **changes) -> dict:
    return CONTACT | {"email": f"p{n}@example.com"} | changes


def test_only_pairs_whose_one_write_is_their_contact_s_are_paged():
    plan = plan_for(
        leads={
            "L1": lead(1, title="CEO"),  # pushed, nothing else: paged
            "L2": lead(2),  # a new lead: created in HubSpot by email, nothing else: paged
            "L3": lead(3, title="COO"),  # and its contact's stage changed: a lead write too
            "L4": lead(4, title="CFO"),  # and its contact's title too: a conflict
        },
        contacts={"103": contact(3, lifecyclestage="customer"), "104": contact(4, jobtitle="VP")},
        state={"L1": pair(1), "L3": pair(3), "L4": pair(4)},
        policy="coldcopy_wins",
    )
    assert set(plan.contact_writes["lead_id"]) == {"L1", "L2", "L3", "L4"}
    assert paged_ids(plan) == {"L1", "L2"}


def test_a_pulled_new_lead_and_a_pull_only_pair_are_never_paged():
    plan = plan_for(
        leads={"L1": lead(1)},
        contacts={"101": contact(1, lifecyclestage="customer"), "201": contact(9)},
        state={"L1": pair(1)},
    )
    assert not plan.lead_writes.empty and paged_ids(plan) == set()


def test_push_units_make_as_many_calls_as_one_push_creates_first():
    leads = {f"L{n}": lead(n, title="CEO") for n in range(250)}
    state = {f"L{n}": pair(n) for n in range(0, 250, 2)}  # even leads are linked, odd ones new
    plan = plan_for(leads=leads, state=state)
    units = push_units(plan.contact_writes, 100)
    assert [len(u) for u in units] == [100, 25, 100, 25]
    assert units[0]["hubspot_id"].isna().all() and units[1]["hubspot_id"].isna().all()
    assert units[2]["hubspot_id"].notna().all() and units[3]["hubspot_id"].notna().all()
    assert sorted(i for u in units for i in u["lead_id"]) == sorted(plan.contact_writes["lead_id"])


def test_a_page_and_the_rest_split_the_plan_between_them():
    plan = plan_for(
        leads={"L1": lead(1, title="CEO"), "L2": lead(2, title="CEO"), "L3": lead(3, title="CEO")},
        contacts={"103": contact(3, lifecyclestage="customer")},
        state={"L1": pair(1), "L2": pair(2), "L3": pair(3)},
    )
    page, rest = only_pairs(plan, ["L1"]), without_pairs(plan, ["L1"])
    assert list(page.contact_writes["lead_id"]) == ["L1"] and list(page.agreed["lead_id"]) == ["L1"]
    assert page.lead_writes.empty and page.conflicts.empty and page.tombstones.empty
    assert sorted(rest.contact_writes["lead_id"]) == ["L2", "L3"]
    assert sorted(rest.agreed["lead_id"]) == ["L2", "L3"]
    assert list(rest.lead_writes["lead_id"]) == ["L3"]
    assert rest.counts()["push"] == 2 and plan.counts()["push"] == 3
