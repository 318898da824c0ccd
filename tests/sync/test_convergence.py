"""Property: random edits on both sides, with syncs in between that fail part-way (writes refused, or
applied with the answer lost as when a run is killed), always converge once syncs run cleanly: every lead
is in HubSpot exactly once and every contact is a lead, both sides hold the values the policy dictates
(under `latest`, the last edit of each field wins), nothing is lost, and one more sync writes nothing.

Runs on an in-memory model of both sides (memory_model.py); PostgreSQL and the sandbox over HTTP are
covered by the engine's integration tests.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubspot_pipeline.sync.mapping import FieldMapping, compile_mappings
from tests.sync.memory_model import World, expected_hash

MAPPINGS = [
    FieldMapping("email", "email", "bidirectional", "trim | lowercase"),
    FieldMapping("first_name", "firstname", "bidirectional"),
    FieldMapping("title", "jobtitle", "bidirectional"),
    FieldMapping("status", "coldcopy_lead_status", "to_hubspot"),
    FieldMapping("custom_fields.stage", "lifecyclestage", "from_hubspot"),
]
BIDIRECTIONAL = {"firstname": "first_name", "jobtitle": "title"}
EMAILS = [f"person{i}@example.com" for i in range(5)]

operation = st.one_of(
    st.tuples(st.just("create_lead"), st.integers(0, 4), st.sampled_from(["first_name", "title", None])),
    st.tuples(st.just("create_contact"), st.integers(0, 4), st.sampled_from(["firstname", "jobtitle", None])),
    st.tuples(st.just("edit_lead"), st.integers(0, 9), st.sampled_from(["first_name", "title", "status"])),
    st.tuples(
        st.just("edit_contact"),
        st.integers(0, 9),
        st.sampled_from(["firstname", "jobtitle", "lifecyclestage", "coldcopy_lead_status"]),
    ),
    st.tuples(st.just("sync"), st.integers(0, 2**16), st.none()),
)


def _run(world: World, ops, fault_rate: float, hub_edits: set[str]) -> dict[tuple[str, str], tuple[str, int]]:
    """Apply the operations; returns the last user edit of each (email, canonical field): (value, time)."""
    last: dict[tuple[str, str], tuple[str, int]] = {}
    values = iter(f"v{i}" for i in range(10_000))  # every edit writes a value never seen before
    for kind, number, name in ops:
        if kind == "create_lead":
            email = EMAILS[number]
            if any(v.get("email") == email for v in world.leads.values()):
                continue
            fields = {"email": email} | ({name: next(values)} if name else {})
            world.create_lead(fields)
            for lead_name, value in fields.items():
                prop = {"first_name": "firstname", "title": "jobtitle", "email": "email"}[lead_name]
                last[(email, prop)] = (value, world.clock)
        elif kind == "create_contact":
            email = EMAILS[number]
            if any(c.get("email") == email for c in world.contacts.values()):
                continue
            props = {"email": email} | ({name: next(values)} if name else {})
            world.create_contact(props)
            for prop, value in props.items():
                last[(email, prop)] = (value, world.clock)
        elif kind == "edit_lead" and world.leads:
            lead_id = sorted(world.leads)[number % len(world.leads)]
            value = next(values)
            world.edit_lead(lead_id, name, value)
            prop = {"first_name": "firstname", "title": "jobtitle", "status": "coldcopy_lead_status"}[name]
            last[(world.leads[lead_id]["email"], prop)] = (value, world.clock)
        elif kind == "edit_contact" and world.contacts:
            hubspot_id = sorted(world.contacts)[number % len(world.contacts)]
            value = next(values)
            world.edit_contact(hubspot_id, name, value)
            if name == "coldcopy_lead_status":  # a HubSpot edit of a to_hubspot field is not the truth
                hub_edits.add(value)
            else:
                last[(world.contacts[hubspot_id]["email"], name)] = (value, world.clock)
        elif kind == "sync":
            world.sync(random.Random(number), fault_rate)
    return last


def _settle(world: World) -> None:
    for _ in range(3):
        if world.sync() == 0:
            return
    raise AssertionError("the sync did not settle within three clean runs")


def _assert_converged(world: World, hub_edits: set[str]) -> None:
    lead_emails = sorted(v["email"] for v in world.leads.values())
    contact_emails = sorted(c["email"] for c in world.contacts.values())
    assert lead_emails == contact_emails, "every lead in HubSpot exactly once, every contact a lead"
    by_email = {c["email"]: (h, c) for h, c in world.contacts.items()}
    for lead_id, lead in world.leads.items():
        hubspot_id, contact = by_email[lead["email"]]
        state = world.state[lead_id]
        assert state["status"] == "synced" and state["hubspot_id"] == hubspot_id
        for prop, field in BIDIRECTIONAL.items():
            assert lead.get(field, "") == contact.get(prop, "") == state["agreed"][prop]
        # A to_hubspot field: HubSpot holds the lead's value, unless someone edited it there since (left alone).
        assert (
            contact.get("coldcopy_lead_status", "") == lead["status"]
            or contact["coldcopy_lead_status"] in hub_edits
        )
        assert lead.get("custom_fields.stage", "") == contact.get("lifecyclestage", "")
        assert state["sync_hash"] == expected_hash(state["agreed"], world.mapping_set)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, max_size=30), fault_rate=st.sampled_from([0.0, 0.3, 0.7]))
def test_random_histories_with_faults_converge_to_the_latest_edit_of_every_field(ops, fault_rate):
    world = World(compile_mappings(MAPPINGS, default_policy="latest"))
    hub_edits: set[str] = set()
    last = _run(world, ops, fault_rate, hub_edits)
    _settle(world)
    _assert_converged(world, hub_edits)
    by_email = {c["email"]: c for c in world.contacts.values()}
    for (email, prop), (value, _) in last.items():
        if prop in BIDIRECTIONAL or prop == "lifecyclestage":
            assert by_email[email].get(prop, "") == value, f"{prop} of {email} lost its last edit"
    for lead in world.leads.values():
        status_edit = last.get((lead["email"], "coldcopy_lead_status"))
        assert lead["status"] == (status_edit[0] if status_edit else "new")
    calls = world.write_calls
    assert world.sync() == 0 and world.write_calls == calls


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, max_size=30), policy=st.sampled_from(["coldcopy_wins", "hubspot_wins"]))
def test_random_histories_converge_under_the_fixed_winner_policies(ops, policy):
    world = World(compile_mappings(MAPPINGS, default_policy=policy))
    hub_edits: set[str] = set()
    _run(world, ops, 0.4, hub_edits)
    _settle(world)
    _assert_converged(world, hub_edits)
