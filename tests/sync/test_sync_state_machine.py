"""A model-based test of the real contact sync: random two-sided histories on PostgreSQL and the HubSpot
sandbox, synced by the stages `contacts_sync_job` runs, checked after every sync against an oracle that
knows only what people did and when (sync_oracle.py). The world it drives is sync_world.py.

Rules: leads inserted (valid and invalid emails, unicode, padded values), updated (a field, a custom
field, cleared as NULL or "", the email's case, a new email), soft and hard deleted; contacts created (also
with a lead's email before the first sync), edited in HubSpot's UI one property at a time, archived,
restored, merged (linked with linked, linked with unlinked); webhooks delivered, delivered again, and a
company event whose objectId is a contact's id; syncs, full resyncs, runs meeting 429/5xx/dropped
connections with few retries, runs killed after K writes. Hypothesis picks the workspace's conflict policy,
what an archive in HubSpot does, and whether property changes come by webhook.

After every complete sync: one live contact per live linked lead, no email twice in HubSpot, every mapped
field on both sides as the policy says (so no edit lost), no lead re-created from an ended pair, the retry
index holding exactly the leads HubSpot refuses, and a second run right after writes nothing on either side.

Hypothesis also picks per-field conflict policies over the workspace's, and `keep` on archive (the pair is
forgotten; the lead rests until it changes, a full resync, or its contact is restored).

Companies (company_world.py, company_oracle.py): a company's name edited in ColdCopy or in HubSpot's UI,
companies archived and merged in HubSpot, leads moved to another domain by their website; after every sync
each company is as the company oracle says on both sides, every live lead points at the company of its
domain, and each linked contact is associated with its lead's company (not with the one it moved from),
except after a killed or faulty run (an association can be left unmade, README "Companies").

Not covered here: a merge while the surviving lead has unsynced edits (the survivor's property history
mixes both records'), companies restored in HubSpot, ColdCopy deleting a company.

Scripted histories (SCRIPTS, at the end) replay through the same machine what ci's random examples seldom
reach; with issue #9's fix 3, 4 or 6 reverted, one of them fails.

Profiles: `ci` (the default, derandomized, 22 examples, inside `make test`), `deep` (random, 300), and without
shrinking `debug` (ci's examples) and `hunt` (deep's). With -s the test prints how often each rule ran and
what it did:
    HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest tests/sync/test_sync_state_machine.py -s
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.sandbox.receiver import run_receiver
from tests.sync import company_world as cw
from tests.sync.company_oracle import CompanyOracle
from tests.sync.sync_oracle import COLUMNS, STATUS, Expected, Oracle
from tests.sync.sync_world import World, canonical

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("SYNC_MACHINE_EXAMPLES", "22")),
    stateful_step_count=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
settings.register_profile(
    "deep",
    max_examples=int(os.environ.get("SYNC_MACHINE_EXAMPLES", "300")),
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
# Fail fast, no shrinking: `debug` replays ci's examples, `hunt` draws deep's (to time how soon a bug is found).
for name, base in (("debug", "ci"), ("hunt", "deep")):
    settings.register_profile(
        name, settings.get_profile(base), phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False
    )
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "deep", "debug", "hunt"):
    PROFILE = "ci"

# A small world: more of the steps meet the same few pairs, where the interesting overlaps are.
MAX_LIVE = 6
LEAD_FIELDS = {"firstname": "first_name", "jobtitle": "title", "coldcopy_segment": "custom_fields.segment"}
LEAD_STATUSES = ["new", "contacted", "replied", "interested", "not_interested"]
# Every value written is new (a counter follows the flavour), so a change is always a change.
FLAVOURS = st.sampled_from(["v", "Zoë ", "東京", "😀", "O'Brien-", "  padded "])
# Per-field conflict policies over the workspace's (`hubspot_field_mappings.conflict_policy`).
OVERRIDES = [
    {"jobtitle": "hubspot_wins"},
    {"firstname": "coldcopy_wins", "coldcopy_segment": "latest"},
    {"email": "hubspot_wins", "jobtitle": "coldcopy_wins"},
]
FIRED: Counter[str] = Counter()  # rule -> times it ran
EVENTS: Counter[str] = Counter()  # rule and what it did -> times
# run_state_machine_as_test inside a test with fixtures is not a @given test of its own, so
# --hypothesis-show-statistics has nothing to show for it: the test prints these counts instead (-s).


def fired(name: str, detail: str = "") -> None:
    FIRED[name] += 1
    EVENTS[f"{name}{': ' + detail if detail else ''}"] += 1
    event(f"{name}{': ' + detail if detail else ''}")


@pytest.fixture
def receiver() -> Iterator:
    with run_receiver() as running:
        yield running


def _check(world: World, oracle: Oracle, expected: Expected) -> None:
    leads, contacts, state = world.leads(), world.contacts(), world.state()
    emails = Counter(c["email"] for c in contacts.values() if c["email"])
    twice = [e for e, n in emails.items() if n > 1]
    assert not twice, f"emails held by two live contacts: {twice}"
    live_leads = {k: v for k, v in leads.items() if not v["deleted"]}
    seen_leads, seen_contacts = set(), set()
    for email, (lead_id, contact_id, lead_values, contact_values) in expected.pairs.items():
        if lead_id is None:
            found = [k for k, v in live_leads.items() if v["values"]["email"] == email]
            assert len(found) == 1, f"HubSpot contact {contact_id} ({email}) became {len(found)} leads"
            lead_id = found[0]
        if contact_id is None:
            found = [k for k, c in contacts.items() if c["email"] == email]
            assert len(found) == 1, f"lead {lead_id} ({email}) is {len(found)} live contacts in HubSpot"
            contact_id = found[0]
        assert lead_id in live_leads, f"lead {lead_id} ({email}) is gone or deleted"
        assert contact_id in contacts, f"contact {contact_id} of lead {lead_id} ({email}) is not live"
        for column in COLUMNS:
            assert live_leads[lead_id]["values"][column] == lead_values[column], (
                f"lead {lead_id} {column}: {live_leads[lead_id]['values'][column]!r}, expected "
                f"{lead_values[column]!r} (policy {oracle.policy})"
            )
            assert contacts[contact_id][column] == contact_values[column], (
                f"contact {contact_id} {column}: {contacts[contact_id][column]!r}, expected "
                f"{contact_values[column]!r} (policy {oracle.policy})"
            )
        row = state.get(lead_id)
        assert row is not None and row["status"] == "synced", f"lead {lead_id} pair state: {row}"
        assert row["hubspot_id"] == contact_id, (
            f"lead {lead_id} is linked to {row['hubspot_id']}, not {contact_id}"
        )
        assert "_tombstone" not in (row["agreed"] or {}), (
            f"lead {lead_id}'s live pair is ended: {row['agreed']}"
        )
        oracle.adopt(lead_id, contact_id, lead_values, contact_values)
        seen_leads.add(lead_id)
        seen_contacts.add(contact_id)
    failing = {k for k, row in state.items() if row["status"] == "error"}
    assert failing == expected.failing, (
        f"retry index {sorted(failing)}, expected {sorted(expected.failing)}: "
        f"{[state[k]['error'] for k in failing - expected.failing]}"
    )
    for lead_id in expected.deleted_leads:
        assert leads[lead_id]["deleted"], f"lead {lead_id}: its contact was archived, it should be deleted"
    for lead_id, lead in oracle.leads.items():  # an ended pair's lead (merged away, say) stays too
        assert lead.deleted or lead_id in live_leads, f"lead {lead_id} was deleted; nobody deleted it"
    others = set(live_leads) - seen_leads - expected.failing - expected.ended - expected.resting
    assert not others, f"leads nobody expected (re-created from an ended pair?): {others}"
    strays = {
        k for k, c in contacts.items() if c["email"] and k not in seen_contacts | expected.dead_contacts
    }
    frozen = {oracle.linked_contact(k) for k in expected.frozen}
    assert not strays - frozen, f"live contacts no lead is synced with: {strays - frozen}"


class SyncMachine(RuleBasedStateMachine):
    engine = None
    sandbox = None
    receiver = None

    def __init__(self) -> None:
        super().__init__()
        self.world: World | None = None
        self.oracle: Oracle | None = None
        self.undelivered = 0  # HubSpot changes since webhooks were last delivered
        self.merged_since_sync: set[str] = set()  # survivors of merges no sync has seen yet
        self.companies: CompanyOracle | None = None
        self.moved: dict[str, str | None] = {}  # lead id -> its company before it moved, since the last sync
        # A run killed or meeting faults may leave an association unmade (README, "Companies"): from then on
        # this example checks companies but not associations.
        self.associations_certain = True
        self.contact_merges = 0

    # --- setup ----------------------------------------------------------------------------------------
    @initialize(
        policy=st.sampled_from(["latest", "latest", "coldcopy_wins", "hubspot_wins"]),
        on_archive=st.sampled_from(["unlink", "delete_lead", "keep"]),
        property_webhooks=st.sampled_from([False, False, True]),
        duplicates=st.sampled_from([0.0, 0.3]),
        overrides=st.sampled_from([{}, {}, *OVERRIDES]),
    )
    def setup(
        self,
        policy: str,
        on_archive: str,
        property_webhooks: bool,
        duplicates: float,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.world = World(
            self.engine,
            self.sandbox,
            self.receiver,
            policy=policy,
            on_archive=on_archive,
            overrides=overrides,
            property_webhooks=property_webhooks,
            duplicate_webhooks=duplicates,
        )
        self.oracle = Oracle(policy, on_archive, overrides)
        self.companies = CompanyOracle(policy, on_archive)
        own = ", " + ", ".join(f"{c} {p}" for c, p in sorted((overrides or {}).items())) if overrides else ""
        fired("setup", f"{policy}{own}, archive {on_archive}, property webhooks {property_webhooks}")

    def teardown(self) -> None:
        if self.world is not None:
            self.world.close()

    def _hubspot(self) -> World:
        """The world, for a change in HubSpot (which queues webhooks)."""
        self.undelivered += 1
        return self.world

    # --- helpers --------------------------------------------------------------------------------------
    def _pick(self, items: list[str], i: int) -> str:
        return items[i % len(items)]  # in the order they came: lead ids are random UUIDs

    def _live_leads(self) -> list[str]:
        return [k for k, lead in self.oracle.leads.items() if not lead.deleted]

    def _live_contacts(self) -> list[str]:
        return [k for k, c in self.oracle.contacts.items() if not (c.archived or c.gone)]

    def _value(self, flavour: str, clear: str | None) -> str | None:
        if clear == "null":
            return None
        if clear == "empty":
            return ""
        return self.world.fresh_value(flavour)

    # --- ColdCopy -------------------------------------------------------------------------------------
    @precondition(lambda self: self.oracle is not None and len(self._live_leads()) < MAX_LIVE)
    @rule(
        with_fields=st.sets(st.sampled_from(sorted(LEAD_FIELDS))),
        flavour=FLAVOURS,
        status=st.sampled_from(LEAD_STATUSES),
        valid=st.sampled_from([True, True, True, False]),
        shout=st.booleans(),
    )
    def insert_lead(self, with_fields, flavour, status, valid, shout) -> None:
        email = self.world.fresh_email(valid=valid)
        self._insert(email.upper() if shout else email, with_fields, flavour, status, valid)
        fired("insert_lead", "invalid email" if not valid else "")

    def _insert(self, email: str, with_fields, flavour: str, status: str, valid: bool) -> None:
        values = {LEAD_FIELDS[c]: self.world.fresh_value(flavour) for c in sorted(with_fields)}
        lead_id, at = self.world.insert_lead({"email": email, "status": status, **values})
        canon = {"email": canonical("email", email), STATUS: status}
        canon |= {c: canonical(c, values[LEAD_FIELDS[c]]) for c in with_fields}
        self.oracle.lead_inserted(lead_id, canon, at, valid=valid)
        note(f"lead {lead_id} inserted at {at}: {canon}")

    def _contacts_without_lead(self) -> list[str]:
        lead_emails = {lead.side.values["email"] for lead in self.oracle.leads.values()}
        return [
            c
            for c in self.oracle.unlinked_contacts()
            if self.oracle.contacts[c].side.values["email"]
            and self.oracle.contacts[c].side.values["email"] not in lead_emails
        ]

    @precondition(
        lambda self: (
            self.oracle is not None and len(self._live_leads()) < MAX_LIVE and self._contacts_without_lead()
        )
    )
    @rule(i=st.integers(0, 99), with_fields=st.sets(st.sampled_from(sorted(LEAD_FIELDS))), flavour=FLAVOURS)
    def insert_lead_like_a_new_contact(self, i, with_fields, flavour) -> None:
        contact_id = self._pick(self._contacts_without_lead(), i)
        email = self.oracle.contacts[contact_id].side.values["email"]
        self._insert(email.title(), with_fields, flavour, "new", True)
        fired("insert_lead_like_a_new_contact")

    @precondition(lambda self: self.oracle is not None and self._live_leads())
    @rule(
        i=st.integers(0, 99),
        column=st.sampled_from(sorted(LEAD_FIELDS)),
        flavour=FLAVOURS,
        clear=st.sampled_from([None, None, None, "null", "empty"]),
    )
    def update_lead(self, i, column, flavour, clear) -> None:
        lead_id = self._pick(self._live_leads(), i)
        value = self._value(flavour, clear)
        at, changed = self.world.update_lead(lead_id, LEAD_FIELDS[column], value)
        self.oracle.lead_written(lead_id, column, canonical(column, value), at, stored_changed=changed)
        note(f"lead {lead_id} {column} = {value!r} at {at}")
        fired("update_lead", f"{column} {clear or 'value'}")

    @precondition(lambda self: self.oracle is not None and self._live_leads())
    @rule(i=st.integers(0, 99), status=st.sampled_from(LEAD_STATUSES))
    def update_lead_status(self, i, status) -> None:
        lead_id = self._pick(self._live_leads(), i)
        at, changed = self.world.update_lead(lead_id, "status", status)
        self.oracle.lead_written(lead_id, STATUS, status, at, stored_changed=changed)
        note(f"lead {lead_id} status = {status} at {at}")
        fired("update_lead_status")

    @precondition(lambda self: self.oracle is not None and self._live_leads())
    @rule(i=st.integers(0, 99), how=st.sampled_from(["case", "new", "invalid", "new"]))
    def change_lead_email(self, i, how) -> None:
        lead_id = self._pick(self._live_leads(), i)
        if how == "case":
            email = self.world.raw_email(lead_id).swapcase()
        else:
            email = self.world.fresh_email(valid=how != "invalid")
        at, changed = self.world.update_lead(lead_id, "email", email)
        valid = self.oracle.leads[lead_id].valid if how == "case" else how != "invalid"
        self.oracle.lead_written(
            lead_id, "email", canonical("email", email), at, stored_changed=changed, valid=valid
        )
        note(f"lead {lead_id} email = {email} at {at}")
        fresh = self.oracle.linked_contact(lead_id) in self.merged_since_sync
        fired("change_lead_email", how + (", its contact a fresh merge survivor" if fresh else ""))

    @precondition(lambda self: self.oracle is not None and self._live_leads())
    @rule(i=st.integers(0, 99), hard=st.booleans())
    def delete_lead(self, i, hard) -> None:
        lead_id = self._pick(self._live_leads(), i)
        self.world.delete_lead(lead_id, hard=hard)
        self.oracle.lead_deleted(lead_id, hard=hard)
        note(f"lead {lead_id} {'hard' if hard else 'soft'} deleted")
        fired("delete_lead", "hard" if hard else "soft")

    def _refused(self) -> list[str]:
        return [k for k in self._live_leads() if not self.oracle.leads[k].valid]

    @precondition(lambda self: self.oracle is not None and self._refused())
    @rule(
        i=st.integers(0, 99),
        how=st.sampled_from(["fix the email", "soft delete", "hard delete", "hard delete"]),
    )
    def deal_with_a_refused_lead(self, i, how) -> None:
        """Someone fixes, or deletes, a lead whose invalid email HubSpot refused."""
        lead_id = self._pick(self._refused(), i)
        if how == "fix the email":
            email = self.world.fresh_email()
            at, changed = self.world.update_lead(lead_id, "email", email)
            self.oracle.lead_written(lead_id, "email", email, at, stored_changed=changed, valid=True)
        else:
            self.world.delete_lead(lead_id, hard=how == "hard delete")
            self.oracle.lead_deleted(lead_id, hard=how == "hard delete")
        note(f"refused lead {lead_id}: {how}")
        fired("deal_with_a_refused_lead", how)

    # --- HubSpot --------------------------------------------------------------------------------------
    @precondition(lambda self: self.oracle is not None and len(self._live_contacts()) < MAX_LIVE)
    @rule(with_fields=st.sets(st.sampled_from(sorted(LEAD_FIELDS))), flavour=FLAVOURS, email=st.booleans())
    def create_contact(self, with_fields, flavour, email) -> None:
        props = {c: self.world.fresh_value(flavour).strip() for c in sorted(with_fields)}
        if email or not props:
            props["email"] = self.world.fresh_email()
        contact_id, at = self._hubspot().create_contact(props)
        self.oracle.contact_created(contact_id, props, at)
        note(f"contact {contact_id} created at {at}: {props}")
        fired("create_contact", "" if "email" in props else "no email")

    def _leads_without_contact(self) -> list[str]:
        contact_emails = {c.side.values["email"] for c in self.oracle.contacts.values()}
        return [
            k
            for k in self.oracle.unlinked_leads()
            if self.oracle.leads[k].valid and self.oracle.leads[k].side.values["email"] not in contact_emails
        ]

    @precondition(
        lambda self: (
            self.oracle is not None
            and len(self._live_contacts()) < MAX_LIVE
            and self._leads_without_contact()
        )
    )
    @rule(i=st.integers(0, 99), with_fields=st.sets(st.sampled_from(sorted(LEAD_FIELDS))), flavour=FLAVOURS)
    def create_contact_like_a_new_lead(self, i, with_fields, flavour) -> None:
        lead_id = self._pick(self._leads_without_contact(), i)
        props = {c: self.world.fresh_value(flavour).strip() for c in sorted(with_fields)}
        props["email"] = self.oracle.leads[lead_id].side.values["email"]
        contact_id, at = self._hubspot().create_contact(props)
        self.oracle.contact_created(contact_id, props, at)
        note(f"contact {contact_id} created at {at} with lead {lead_id}'s email: {props}")
        fired("create_contact_like_a_new_lead")

    @precondition(lambda self: self.oracle is not None and self._live_contacts())
    @rule(
        i=st.integers(0, 99),
        column=st.sampled_from([*sorted(LEAD_FIELDS), "email", STATUS]),
        flavour=FLAVOURS,
        clear=st.sampled_from([False, False, False, True]),
    )
    def edit_contact(self, i, column, flavour, clear) -> None:
        contact_id = self._pick(self._live_contacts(), i)
        if column == "email":
            value = self.world.fresh_email()
        else:
            value = "" if clear else self.world.fresh_value(flavour).strip()
        at = self._hubspot().edit_contact(contact_id, column, value)
        self.oracle.contact_written(contact_id, column, value, at)
        note(f"contact {contact_id} {column} = {value!r} at {at} (UI)")
        fresh = ", a fresh merge survivor" if contact_id in self.merged_since_sync else ""
        fired("edit_contact", f"{column}{' cleared' if clear and column != 'email' else ''}{fresh}")

    def _linked_live(self) -> list[str]:
        """Leads of live pairs whose lead and contact are both there and valid."""
        live = set(self._live_contacts())
        return [
            k
            for k, p in self.oracle.live_pairs().items()
            if not self.oracle.leads[k].deleted and self.oracle.leads[k].valid and p.contact_id in live
        ]

    @precondition(lambda self: self.oracle is not None and self._linked_live())
    @rule(
        i=st.integers(0, 99),
        column=st.sampled_from(sorted(LEAD_FIELDS)),
        hubspot_first=st.booleans(),
        then=st.sampled_from([None, *sorted(LEAD_FIELDS)]),
        flavour=FLAVOURS,
    )
    def edit_one_field_on_both_sides(self, i, column, hubspot_first, then, flavour) -> None:
        """A lead and its contact get different values for one field, in either order; then, maybe,
        HubSpot edits another field of the contact (its record is then newer than its older edit)."""
        lead_id = self._pick(self._linked_live(), i)
        contact_id = self.oracle.pairs[lead_id].contact_id
        for side in ("hubspot", "coldcopy") if hubspot_first else ("coldcopy", "hubspot"):
            value = self.world.fresh_value(flavour).strip()
            if side == "hubspot":
                at = self._hubspot().edit_contact(contact_id, column, value)
                self.oracle.contact_written(contact_id, column, value, at)
            else:
                at, changed = self.world.update_lead(lead_id, LEAD_FIELDS[column], value)
                self.oracle.lead_written(lead_id, column, value, at, stored_changed=changed)
            note(f"{side} {column} = {value!r} at {at} (lead {lead_id}, contact {contact_id})")
        if then is not None and then != column:
            value = self.world.fresh_value(flavour).strip()
            at = self._hubspot().edit_contact(contact_id, then, value)
            self.oracle.contact_written(contact_id, then, value, at)
            note(f"hubspot {then} = {value!r} at {at} (contact {contact_id})")
        fired("edit_one_field_on_both_sides", f"{'hubspot' if hubspot_first else 'coldcopy'} first")

    def _ended_live_leads(self) -> list[str]:
        return [k for k, p in self.oracle.pairs.items() if p.ended and not self.oracle.leads[k].deleted]

    @precondition(lambda self: self.oracle is not None and self._ended_live_leads())
    @rule(i=st.integers(0, 99), column=st.sampled_from(sorted(LEAD_FIELDS)), flavour=FLAVOURS)
    def edit_lead_of_an_ended_pair(self, i, column, flavour) -> None:
        """ColdCopy keeps editing a lead whose contact was archived or merged away: nothing syncs."""
        lead_id = self._pick(self._ended_live_leads(), i)
        value = self.world.fresh_value(flavour)
        at, changed = self.world.update_lead(lead_id, LEAD_FIELDS[column], value)
        self.oracle.lead_written(lead_id, column, canonical(column, value), at, stored_changed=changed)
        note(f"lead {lead_id} (ended pair) {column} = {value!r} at {at}")
        fired("edit_lead_of_an_ended_pair", self.oracle.pairs[lead_id].ended or "")

    def _ended_live_contacts(self) -> list[str]:
        ended = {p.contact_id for p in self.oracle.pairs.values() if p.ended}
        return [c for c in self._live_contacts() if c in ended]

    @precondition(lambda self: self.oracle is not None and self._ended_live_contacts())
    @rule(i=st.integers(0, 99), column=st.sampled_from(sorted(LEAD_FIELDS)), flavour=FLAVOURS)
    def edit_contact_of_an_ended_pair(self, i, column, flavour) -> None:
        """HubSpot keeps editing a contact whose lead was deleted: nothing syncs, no lead comes back."""
        contact_id = self._pick(self._ended_live_contacts(), i)
        value = self.world.fresh_value(flavour).strip()
        at = self._hubspot().edit_contact(contact_id, column, value)
        self.oracle.contact_written(contact_id, column, value, at)
        note(f"contact {contact_id} (ended pair) {column} = {value!r} at {at}")
        fired("edit_contact_of_an_ended_pair")

    @precondition(lambda self: self.oracle is not None and self._live_contacts())
    @rule(i=st.integers(0, 99))
    def archive_contact(self, i) -> None:
        contact_id = self._pick(self._live_contacts(), i)
        self._hubspot().archive_contact(contact_id)
        self.oracle.contact_archived(contact_id)
        linked = contact_id in {p.contact_id for p in self.oracle.live_pairs().values()}
        note(f"contact {contact_id} archived")
        fresh = ", a fresh merge survivor" if contact_id in self.merged_since_sync else ""
        fired("archive_contact", ("linked" if linked else "unlinked") + fresh)

    def _archived(self) -> list[str]:
        live_emails = {self.oracle.contacts[c].side.values["email"] for c in self._live_contacts()}
        return [
            k
            for k, c in self.oracle.contacts.items()
            if c.archived and not c.gone and c.side.values["email"] not in live_emails
        ]

    @precondition(lambda self: self.oracle is not None and self._archived())
    @rule(i=st.integers(0, 99))
    def restore_contact(self, i) -> None:
        contact_id = self._pick(self._archived(), i)
        restored = self._hubspot().restore_contact(contact_id)
        if restored:
            self.oracle.contact_archived(contact_id, False)
        note(f"contact {contact_id} {'restored' if restored else 'not restored: its email is taken'}")
        fired("restore_contact", "" if restored else "email taken")

    def _mergeable(self) -> list[str]:
        """Live contacts either new in HubSpot (no lead has their email) or linked to a live, valid lead
        with no unsynced edit."""
        by_contact = {p.contact_id: k for k, p in self.oracle.live_pairs().items()}
        lead_emails = {lead.side.values["email"] for lead in self.oracle.leads.values()}
        out = []
        for contact_id in self._live_contacts():
            lead_id = by_contact.get(contact_id)
            if lead_id is None:
                email = self.oracle.contacts[contact_id].side.values["email"]
                if contact_id in self.oracle.unlinked_contacts() and email not in lead_emails:
                    out.append(contact_id)
                continue
            lead, pair = self.oracle.leads[lead_id], self.oracle.pairs[lead_id]
            unsynced = pair.agreed is None or any(lead.side.values[c] != pair.agreed.get(c) for c in COLUMNS)
            if not (lead.deleted or unsynced) and lead.valid:
                out.append(contact_id)
        return out

    def _merge(self, rule_name: str, primary: str, other: str) -> None:
        linked = {p.contact_id for p in self.oracle.live_pairs().values()}
        survivor, props, at = self._hubspot().merge_contacts(primary, other)
        values = {c: (props.get(c) or "") for c in COLUMNS}
        values["email"] = values["email"].lower()
        self.oracle.contacts_merged(primary, other, survivor, values, at)
        self.merged_since_sync.add(survivor)
        self.contact_merges += 1
        kinds = sorted("linked" if c in linked else "new" for c in (primary, other))
        note(f"contacts {other} merged into {primary}: survivor {survivor} {values}")
        fired(rule_name, " + ".join(kinds))

    def _mergeable_linked(self) -> list[str]:
        linked = {p.contact_id for p in self.oracle.live_pairs().values()}
        return [c for c in self._mergeable() if c in linked]

    @precondition(lambda self: self.oracle is not None and len(self._mergeable_linked()) >= 2)
    @rule(i=st.integers(0, 99), j=st.integers(1, 99))
    def merge_two_linked_contacts(self, i, j) -> None:
        """Two contacts, each with its own lead, merged in HubSpot (either may be the primary)."""
        candidates = self._mergeable_linked()
        primary, other = candidates[i % len(candidates)], candidates[(i + j) % len(candidates)]
        if primary == other:
            other = candidates[(i + 1) % len(candidates)]
        self._merge("merge_two_linked_contacts", primary, other)

    @precondition(lambda self: self.oracle is not None and len(self._mergeable()) >= 2)
    @rule(i=st.integers(0, 99), j=st.integers(1, 99))
    def merge_contacts(self, i, j) -> None:
        candidates = self._mergeable()
        primary, other = candidates[i % len(candidates)], candidates[(i + j) % len(candidates)]
        if primary == other:
            other = candidates[(i + 1) % len(candidates)]
        self._merge("merge_contacts", primary, other)

    # --- webhooks -------------------------------------------------------------------------------------
    @precondition(lambda self: self.undelivered > 0)
    @rule(again=st.sampled_from([None, None, 0, 1, 3]))
    def deliver_webhooks(self, again) -> None:
        """HubSpot delivers what is queued; `again`: then an earlier delivery once more (a retry after no
        answer in time)."""
        stored = self.world.deliver_webhooks()
        self.undelivered = 0
        if again is not None:
            self.world.redeliver(again)
        fired("deliver_webhooks", ("some" if stored else "none") + ("" if again is None else ", again"))

    @precondition(lambda self: self.oracle is not None and self.oracle.live_pairs())
    @rule(
        i=st.integers(0, 99),
        kind=st.sampled_from(["company.deletion", "company.deletion", "company.propertyChange"]),
    )
    def company_event_with_a_contacts_id(self, i, kind) -> None:
        companies = {c["hubspot_id"] for c in cw.coldcopy_companies(self.world).values()}
        candidates = [
            p.contact_id for p in self.oracle.live_pairs().values() if p.contact_id not in companies
        ]
        if not candidates:  # every such id is a company's too: the event would be about that company
            fired("company_event_with_a_contacts_id", "skipped: the ids are companies' too")
            return
        contact_id = self._pick(candidates, i)
        self.world.company_event(contact_id, kind)
        note(f"{kind} for object {contact_id} (a contact's id)")
        fired("company_event_with_a_contacts_id", kind)

    # --- companies ------------------------------------------------------------------------------------
    @precondition(lambda self: self.oracle is not None and self._live_leads())
    @rule(i=st.integers(0, 99), domain=st.sampled_from([*cw.DOMAINS, None]))
    def move_lead_to_another_domain(self, i, domain) -> None:
        lead_id = self._pick(self._live_leads(), i)
        before = cw.lead_companies(self.world).get(lead_id, (None, "", ""))[0]
        at, _ = self.world.update_lead(lead_id, "website", f"https://www.{domain}/about" if domain else None)
        self.oracle.lead_touched(lead_id)
        self.moved.setdefault(lead_id, before)
        note(f"lead {lead_id} website -> {domain} at {at}")
        fired("move_lead_to_another_domain", "to a domain" if domain else "website cleared")

    def _known_companies(self) -> list[str]:
        return sorted(self.companies.companies) if self.companies is not None else []

    def _live_companies(self) -> list[str]:
        return sorted(d for d, c in self.companies.live().items() if c.hubspot_id) if self.companies else []

    @precondition(lambda self: self._known_companies())
    @rule(i=st.integers(0, 99), flavour=FLAVOURS)
    def edit_company_in_coldcopy(self, i, flavour) -> None:
        domain = self._pick(self._known_companies(), i)
        name = self.world.fresh_value(flavour).strip()
        at = cw.edit_company_in_coldcopy(self.world, domain, name)
        self.companies.edit_coldcopy(domain, name, at)
        note(f"company {domain} name = {name!r} at {at} (ColdCopy)")
        fired("edit_company_in_coldcopy", self.companies.companies[domain].status)

    @precondition(lambda self: self._live_companies())
    @rule(i=st.integers(0, 99), flavour=FLAVOURS)
    def edit_company_in_hubspot(self, i, flavour) -> None:
        domain = self._pick(self._live_companies(), i)
        company = self.companies.companies[domain]
        name = self.world.fresh_value(flavour).strip()
        at = cw.edit_company_in_hubspot(self._hubspot(), company.hubspot_id, name)
        self.companies.edit_hubspot(domain, name, at)
        note(f"company {domain} ({company.hubspot_id}) name = {name!r} at {at} (HubSpot UI)")
        fired("edit_company_in_hubspot")

    @precondition(lambda self: self._live_companies())
    @rule(i=st.integers(0, 99))
    def archive_company(self, i) -> None:
        domain = self._pick(self._live_companies(), i)
        cw.archive_company(self._hubspot(), self.companies.companies[domain].hubspot_id)
        self.companies.archive(domain)
        note(f"company {domain} archived in HubSpot")
        fired("archive_company")

    @precondition(lambda self: len(self._live_companies()) >= 2)
    @rule(i=st.integers(0, 99), j=st.integers(1, 99))
    def merge_companies(self, i, j) -> None:
        live = self._live_companies()
        primary, other = live[i % len(live)], live[(i + j) % len(live)]
        if primary == other:
            other = live[(i + 1) % len(live)]
        ids = self.companies.companies
        survivor, at = cw.merge_companies(self._hubspot(), ids[primary].hubspot_id, ids[other].hubspot_id)
        self.companies.merge(primary, other, survivor, at)
        note(f"company {other} merged into {primary}: survivor {survivor} at {at}")
        fired("merge_companies")

    # --- syncs ----------------------------------------------------------------------------------------
    def _synced_and_checked(self, *, full: bool = False) -> None:
        self.world.deliver_webhooks()
        self.undelivered = 0
        expected = self.oracle.settle(full=full)
        report = self.world.sync(full=full)
        self.merged_since_sync.clear()
        note(f"sync: {report.counts}, errors {report.error_samples}")
        _check(self.world, self.oracle, expected)
        self._check_companies(full=full)
        self.world.deliver_webhooks()  # the sync's own writes come back as events: no echo
        leads, state, writes = self.world.leads(), self.world.state(), self.world.write_calls()
        companies = cw.coldcopy_companies(self.world)
        again = self.world.sync()
        if expected.failing:
            return  # the refused rows are retried, and written, every run
        assert self.world.write_calls() == writes, f"a second sync wrote to HubSpot: {again.counts}"
        assert self.world.leads() == leads, f"a second sync wrote leads: {again.counts}"
        assert self.world.state() == state, f"a second sync changed pair state: {again.counts}"
        assert cw.coldcopy_companies(self.world) == companies, (
            f"a second sync changed companies: {again.counts}"
        )

    def _check_companies(self, *, full: bool) -> None:
        """Companies as the company oracle says, every live lead pointing at the company of its domain,
        and (unless a run was killed or met faults) each linked contact associated with its lead's company."""
        leads = cw.lead_companies(self.world)
        self.companies.settle({d for _, w, e in leads.values() if (d := lead_domain(w, e))}, full)
        found, hubspot = cw.coldcopy_companies(self.world), cw.hubspot_companies(self.world)
        assert set(found) == set(self.companies.companies), f"companies {sorted(found)}"
        for domain, company in self.companies.companies.items():
            row = found[domain]
            assert row["name"] == company.name, f"company {domain}: {row}, expected {company}"
            if company.status == "live":
                assert row["hubspot_id"] in hubspot and not row["ended"], f"company {domain}: {row}"
                assert row["status"] == "synced", f"company {domain}: {row}"
                assert hubspot[row["hubspot_id"]]["name"] == company.hubspot_name, (
                    f"HubSpot company {domain}: {hubspot[row['hubspot_id']]}, expected {company}"
                )
                company.hubspot_id = row["hubspot_id"]
            elif company.status == "resting":
                assert row["hubspot_id"] is None, f"company {domain} should rest unpaired: {row}"
            else:
                assert row["ended"] and row["deleted"] == (company.status == "deleted"), f"{domain}: {row}"
        for lead_id, (company_id, website, email) in leads.items():
            domain = lead_domain(website, email)
            assert company_id == (cw.company_id_of(self.world, domain) if domain else None), (
                f"lead {lead_id} ({website!r}, {email!r}) points at {company_id}"
            )
        if self.associations_certain:
            self._check_associations(leads, found)
        self.moved.clear()

    def _check_associations(self, leads: dict, found: dict) -> None:
        state = self.world.state()
        contact_of = {
            k: row["hubspot_id"]
            for k, row in state.items()
            if k in leads and row["hubspot_id"] and "_tombstone" not in (row["agreed"] or {})
        }
        by_id = {row["id"]: (d, row) for d, row in found.items()}
        links = cw.associated(self.world, sorted(set(contact_of.values())))
        for lead_id, contact_id in contact_of.items():
            company_id = leads[lead_id][0]
            domain, row = by_id.get(company_id, (None, None))
            if domain is not None and self.companies.companies[domain].status == "live":
                assert row["hubspot_id"] in links[contact_id], (
                    f"lead {lead_id}'s contact {contact_id} is not associated with company {domain}: {links}"
                )
            old = self.moved.get(lead_id)
            old_domain, old_row = by_id.get(old, (None, None))
            # (a merged contact takes over the other's associations: not checked once contacts merged)
            live_old = old_domain and self.companies.companies[old_domain].status == "live"
            if live_old and old != company_id and not self.contact_merges:
                assert old_row["hubspot_id"] not in links[contact_id], (
                    f"lead {lead_id} moved from {old_domain}; its contact is still associated with it"
                )

    @precondition(lambda self: self.oracle is not None)
    @rule(
        mode=st.sampled_from(["incremental", "incremental", "full", "killed", "faulty"]),
        writes=st.integers(1, 4),
        fault=st.sampled_from(
            ["rate_limit_429", "error_500", "error_503", "drop_connection", "error_after_write"]
        ),
        rate=st.sampled_from([0.3, 0.6]),
    )
    def sync(self, mode, writes, fault, rate) -> None:
        """A sync, checked. `killed`: first a run killed after K writes; `faulty`: first a run meeting
        HubSpot faults with few retries (either may leave HubSpot written and PostgreSQL not)."""
        self.world.deliver_webhooks()
        detail = mode
        if mode == "killed":
            killed = self.world.killed_sync(writes)
            note(f"run killed after {writes} writes: {killed}")
            detail = f"killed after {writes} writes" if killed else "killed: finished first"
        if mode in ("killed", "faulty"):
            self.associations_certain = False
        if mode == "faulty":
            outcome = self.world.faulty_sync({fault: rate})
            note(f"run with {fault} at {rate}: {outcome}")
            detail = f"faulty {fault}: {outcome}"
        self._synced_and_checked(full=mode == "full")
        fired("sync", detail)


def lead_domain(website: str, email: str) -> str:
    """The test's own reading of a lead's domain: its website's host, else its email's domain (none of the
    test's emails is free mail)."""
    host = website.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.") if website else ""
    if "." in host:
        return host
    tail = email.strip().lower().rpartition("@")[2]
    return tail if "." in tail else ""


@pytest.mark.timeout(1800)  # a failure is shrunk for up to five minutes, the deep profile runs long
def test_random_two_sided_histories_sync_as_the_oracle_says(engine, hubspot_sandbox, receiver):
    SyncMachine.engine, SyncMachine.sandbox, SyncMachine.receiver = engine, hubspot_sandbox, receiver
    FIRED.clear()
    EVENTS.clear()
    try:
        run_state_machine_as_test(SyncMachine, settings=settings.get_profile(PROFILE))
    finally:
        print(f"\nexamples: {FIRED['setup']}, rules fired:", dict(sorted(FIRED.items())))
        print("\n".join(f"  {count:5d}  {name}" for name, count in sorted(EVENTS.items())))
    never = {
        name
        for name in dir(SyncMachine)
        if getattr(getattr(SyncMachine, name), "hypothesis_stateful_rule", None) is not None
    } - set(FIRED)
    print("rules that never fired:", sorted(never) or "none")
    if PROFILE == "deep":  # ci's 22 examples may miss a rare rule; 300 may not
        assert not never, f"rules that never fired: {never}"


# --- scripted histories -------------------------------------------------------------------------------------
# Histories ci's few random examples seldom reach, replayed through the same machine and oracle: with the fix
# of issue #9's defect 3 (merge keepers), 4 (`latest` per field) or 6 (events by object type) reverted, or the
# merge keepers deciding by current emails again, `make test` fails here.
SYNC = {"mode": "incremental", "writes": 1, "fault": "error_500", "rate": 0.3}
LATEST = {"policy": "latest", "on_archive": "unlink", "property_webhooks": False, "duplicates": 0.0}
LEAD = {
    "with_fields": {"jobtitle", "firstname"},
    "flavour": "v",
    "status": "new",
    "valid": True,
    "shout": False,
}
# Four linked pairs, then two merges: c0 (primary) with c1, c3 (primary) with c2. Whatever order PostgreSQL
# reads the pairs' state in, one merge meets its primary's lead first and the other second.
TWO_MERGES = [
    ("setup", LATEST),
    *[("insert_lead", LEAD)] * 4,
    ("sync", SYNC),
    ("merge_two_linked_contacts", {"i": 0, "j": 1}),
    ("merge_two_linked_contacts", {"i": 1, "j": 2}),  # of c2, c3 and the first survivor
]
SCRIPTS = {
    "merges of linked contacts": [*TWO_MERGES, ("sync", SYNC)],
    "merges, then the survivors' emails edited in HubSpot": [
        *TWO_MERGES,
        *[("edit_contact", {"i": i, "column": "email", "flavour": "v", "clear": False}) for i in (0, 1)],
        ("sync", SYNC),
    ],
    "merges, then the primaries' leads' emails changed in ColdCopy": [
        *TWO_MERGES,
        *[("change_lead_email", {"i": i, "how": "new"}) for i in (0, 3)],
        # the other leads are edited too, so the sync reads every claimant's state in one query
        *[("update_lead", {"i": i, "column": "firstname", "flavour": "v", "clear": None}) for i in (1, 2)],
        ("sync", SYNC),
    ],
    "latest: an older HubSpot edit, then HubSpot edits another field": [
        ("setup", LATEST),
        ("insert_lead", LEAD),
        ("sync", SYNC),
        (
            "edit_one_field_on_both_sides",
            {"i": 0, "column": "jobtitle", "hubspot_first": True, "then": "firstname", "flavour": "v"},
        ),
        ("sync", SYNC),
    ],
    "keep: an archived contact's lead rests, then its contact is restored, then it is archived again": [
        ("setup", LATEST | {"on_archive": "keep"}),
        *[("insert_lead", LEAD)] * 2,
        ("sync", SYNC),
        *[("archive_contact", {"i": 0})] * 2,
        ("sync", SYNC),
        ("restore_contact", {"i": 0}),
        ("update_lead", {"i": 1, "column": "jobtitle", "flavour": "v", "clear": None}),
        ("sync", SYNC),
        ("archive_contact", {"i": 0}),
        ("sync", SYNC | {"mode": "full"}),
    ],
    "per-field policies: hubspot_wins on jobtitle, coldcopy_wins on firstname over latest": [
        ("setup", LATEST | {"overrides": {"jobtitle": "hubspot_wins", "firstname": "coldcopy_wins"}}),
        ("insert_lead", LEAD),
        ("sync", SYNC),
        *[
            (
                "edit_one_field_on_both_sides",
                {"i": 0, "column": c, "hubspot_first": h, "then": None, "flavour": "v"},
            )
            for c, h in (("jobtitle", False), ("firstname", True))
        ],
        ("sync", SYNC),
    ],
    **{
        f"merges, then the survivors archived ({archive}){restored}": [
            ("setup", LATEST | {"on_archive": archive}),
            *TWO_MERGES[1:],
            *[("archive_contact", {"i": 0})] * 2,
            *[("restore_contact", {"i": 0})] * (2 if restored else 0),
            ("sync", SYNC),
        ]
        for archive, restored in (("delete_lead", ""), ("unlink", " and restored"))
    },
    "merges, then the kept leads deleted": [
        *TWO_MERGES,
        ("delete_lead", {"i": 0, "hard": True}),
        ("delete_lead", {"i": 2, "hard": False}),
        ("sync", SYNC),
    ],
    **{
        f"companies ({policy}): edited on both sides, then a lead moves to another domain": [
            ("setup", LATEST | {"policy": policy}),
            *[("insert_lead", LEAD)] * 2,
            ("sync", SYNC),
            ("edit_company_in_hubspot", {"i": 0, "flavour": "v"}),
            ("edit_company_in_coldcopy", {"i": 0, "flavour": "v"}),
            ("move_lead_to_another_domain", {"i": 1, "domain": "alpha.example.org"}),
            ("sync", SYNC),
            ("edit_company_in_coldcopy", {"i": 0, "flavour": "v"}),
            ("edit_company_in_hubspot", {"i": 0, "flavour": "v"}),
            ("sync", SYNC),
        ]
        for policy in ("latest", "hubspot_wins")
    },
    **{
        f"companies: archived in HubSpot ({archive}), then edited in ColdCopy": [
            ("setup", LATEST | {"on_archive": archive}),
            ("insert_lead", LEAD),
            ("sync", SYNC),
            ("archive_company", {"i": 0}),
            ("sync", SYNC),
            ("edit_company_in_coldcopy", {"i": 0, "flavour": "v"}),
            ("sync", SYNC),
        ]
        for archive in ("unlink", "delete_lead", "keep")
    },
    "companies: two merged, the primary edited in HubSpot before and ColdCopy after": [
        ("setup", LATEST),
        *[("insert_lead", LEAD)] * 2,
        ("move_lead_to_another_domain", {"i": 1, "domain": "beta.example.org"}),
        ("sync", SYNC),
        ("edit_company_in_hubspot", {"i": 0, "flavour": "v"}),
        ("merge_companies", {"i": 0, "j": 1}),
        ("edit_company_in_coldcopy", {"i": 1, "flavour": "v"}),
        ("sync", SYNC),
        ("edit_company_in_coldcopy", {"i": 0, "flavour": "v"}),
        ("sync", SYNC),
    ],
    "a company deletion with a linked contact's id": [
        ("setup", LATEST | {"on_archive": "delete_lead"}),
        ("insert_lead", LEAD),
        ("sync", SYNC),
        ("company_event_with_a_contacts_id", {"i": 0, "kind": "company.deletion"}),
        ("sync", SYNC),
    ],
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_scripted_histories_sync_as_the_oracle_says(engine, hubspot_sandbox, receiver, name):
    SyncMachine.engine, SyncMachine.sandbox, SyncMachine.receiver = engine, hubspot_sandbox, receiver

    @settings(max_examples=1, database=None, deadline=None, phases=[Phase.generate])
    @given(st.just(SCRIPTS[name]))
    def replay(steps: list[tuple[str, dict]]) -> None:  # inside a test, so note() and event() work
        machine = SyncMachine()
        try:
            for rule_name, arguments in steps:
                method = getattr(machine, rule_name)
                rule_ = getattr(method, "hypothesis_stateful_rule", None)
                assert rule_ is None or all(p(machine) for p in rule_.preconditions), (
                    f"{rule_name} may not run"
                )
                method(**arguments)
        finally:
            machine.teardown()

    replay()
