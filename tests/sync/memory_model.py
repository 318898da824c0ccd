"""An in-memory ColdCopy and HubSpot, and a sync driver applying plans to them with injected faults.

Only for the pure-logic property test: the driver does what the engine does (read changed contacts with a
cursor, re-read the retry index and contacts by email for unlinked leads, write leads, then HubSpot, then
state) but against dicts, so thousands of random histories run in seconds. The real engine is tested on
PostgreSQL and the sandbox over HTTP.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pandas as pd

from hubspot_pipeline.sync.hashing import hash_agreed
from hubspot_pipeline.sync.mapping import (
    LEAD_FIELDS,
    MappingSet,
    canonical_contacts,
    canonical_leads,
)
from hubspot_pipeline.sync.plan import NEW_LEAD_PREFIX, ROW_TIME, STATE_COLUMNS, build_plan


@dataclass
class World:
    mapping_set: MappingSet
    clock: int = 0
    leads: dict[str, dict[str, str]] = field(default_factory=dict)
    lead_times: dict[str, dict[str, int]] = field(default_factory=dict)  # the outbox: last change per field
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    contact_times: dict[str, dict[str, int]] = field(default_factory=dict)  # property history
    contact_modified: dict[str, int] = field(default_factory=dict)
    state: dict[str, dict] = field(default_factory=dict)
    cursor: int = -1
    next_id: int = 1
    write_calls: int = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    # --- user edits ---------------------------------------------------------------------------------
    def edit_lead(self, lead_id: str, name: str, value: str) -> None:
        self.leads[lead_id][name] = value
        self.lead_times[lead_id][name] = self.tick()

    def create_lead(self, values: dict[str, str]) -> str:
        lead_id = f"L{self.next_id}"
        self.next_id += 1
        self.leads[lead_id] = {"status": "new"} | values
        now = self.tick()
        self.lead_times[lead_id] = {name: now for name in values}
        return lead_id

    def edit_contact(self, hubspot_id: str, prop: str, value: str, *, now: int | None = None) -> None:
        now = self.tick() if now is None else now
        self.contacts[hubspot_id][prop] = value
        self.contact_times[hubspot_id][prop] = now
        self.contact_modified[hubspot_id] = now

    def create_contact(self, props: dict[str, str], *, now: int | None = None) -> str:
        hubspot_id = str(1000 + self.next_id)
        self.next_id += 1
        now = self.tick() if now is None else now
        self.contacts[hubspot_id] = dict(props)
        self.contact_times[hubspot_id] = {p: now for p in props}
        self.contact_modified[hubspot_id] = now
        return hubspot_id

    def upsert_by_email(self, props: dict[str, str], now: int) -> str:
        for hubspot_id, existing in self.contacts.items():
            if existing.get("email") == props["email"]:
                for prop, value in props.items():
                    self.edit_contact(hubspot_id, prop, value, now=now)
                return hubspot_id
        return self.create_contact(props, now=now)

    # --- frames ---------------------------------------------------------------------------------------
    def lead_frame(self) -> pd.DataFrame:
        rows = []
        for lead_id, values in self.leads.items():
            row = {name: values.get(name, "") for name in LEAD_FIELDS}
            custom = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("custom_fields.")}
            rows.append(row | {"id": lead_id, "custom_fields": custom})
        return pd.DataFrame(rows, columns=["id", *LEAD_FIELDS, "custom_fields"])

    def _field_columns(self, lead_id: str) -> dict[str, pd.Timestamp]:
        out = {}
        for compiled in self.mapping_set.mappings:
            times = [self.lead_times[lead_id].get(s) for s in compiled.mapping.sources]
            known = [t for t in times if t is not None]
            if known:
                out[compiled.column] = pd.Timestamp(max(known), unit="s", tz="UTC")
        return out

    def plan_inputs(self) -> tuple:
        leads = canonical_leads(self.lead_frame(), self.mapping_set)
        wanted = {h for h, t in self.contact_modified.items() if t >= self.cursor}
        wanted |= {s["hubspot_id"] for s in self.state.values() if s["status"] == "error" and s["hubspot_id"]}
        linked_emails = {lid for lid, s in self.state.items() if s["hubspot_id"]}
        unlinked_emails = {self.leads[lid].get("email", "") for lid in self.leads if lid not in linked_emails}
        wanted |= {h for h, c in self.contacts.items() if c.get("email") in unlinked_emails}
        rows = [{"id": h, **self.contacts[h]} for h in sorted(wanted) if h in self.contacts]
        frame = pd.DataFrame(rows) if rows else pd.DataFrame({"id": [], "email": []}, dtype=object)
        contacts = canonical_contacts(frame, self.mapping_set)
        state = pd.DataFrame(
            [{"lead_id": k, **{c: v.get(c) for c in STATE_COLUMNS}} for k, v in self.state.items()],
            columns=["lead_id", *STATE_COLUMNS],
        ).set_index("lead_id")
        lead_times = pd.DataFrame.from_dict({k: self._field_columns(k) for k in self.leads}, orient="index")
        contact_times = pd.DataFrame.from_dict(
            {
                h: {p: pd.Timestamp(t, unit="s", tz="UTC") for p, t in self.contact_times[h].items()}
                for h in wanted
            },
            orient="index",
        )
        if not contact_times.empty:
            contact_times[ROW_TIME] = pd.NaT
        return leads, contacts, state, lead_times, contact_times

    # --- one sync run ---------------------------------------------------------------------------------
    def sync(self, rng: random.Random | None = None, fault_rate: float = 0.0) -> int:
        """Run one sync; returns the number of writes made. Faults: a write refused, or applied with its
        answer lost (the run is killed before it records the result)."""
        start = self.tick()
        leads, contacts, state, lead_times, contact_times = self.plan_inputs()
        plan = build_plan(
            leads, contacts, state, self.mapping_set, lead_times=lead_times, contact_times=contact_times
        )

        def fault() -> str | None:
            if rng is None or rng.random() >= fault_rate:
                return None
            return rng.choice(["refused", "lost"])

        ok: dict[str, bool] = {}
        new_ids: dict[str, str] = {}
        writes = 0
        for row in plan.lead_writes.to_dict("records"):
            writes += 1
            if fault() is not None:
                ok[row["lead_id"]] = False
                continue
            if row["lead_id"].startswith(NEW_LEAD_PREFIX):
                lead_id = f"L{self.next_id}"
                self.next_id += 1
                self.leads[lead_id] = {"status": "new"} | dict(row["fields"])
                self.lead_times[lead_id] = {}
                new_ids[row["lead_id"]] = lead_id
            else:
                self.leads[row["lead_id"]].update(row["fields"])  # under sync_writer: no outbox row
        hubspot_ids: dict[str, str] = {}
        for row in plan.contact_writes.to_dict("records"):
            writes += 1
            outcome = fault()
            if outcome == "refused":
                ok[row["lead_id"]] = False
                continue
            if row["hubspot_id"] is None:
                hubspot_id = self.upsert_by_email(dict(row["properties"]), now=start)
            else:
                hubspot_id = row["hubspot_id"]
                for prop, value in row["properties"].items():
                    self.edit_contact(hubspot_id, prop, value, now=start)
            if outcome == "lost":
                ok[row["lead_id"]] = False
                continue
            hubspot_ids[row["lead_id"]] = hubspot_id
        failed_contacts: list[int] = []
        for row in plan.agreed.to_dict("records"):
            key = row["lead_id"]
            lead_id = new_ids.get(key, key)
            hubspot_id = row["hubspot_id"] or hubspot_ids.get(key)
            if key.startswith(NEW_LEAD_PREFIX) and key not in new_ids:
                failed_contacts.append(self.contact_modified[key[len(NEW_LEAD_PREFIX) :]])
                continue
            if ok.get(key, True) and hubspot_id:
                self.state[lead_id] = {
                    "hubspot_id": hubspot_id,
                    "agreed": row["agreed"],
                    "sync_hash": row["sync_hash"],
                    "status": "synced",
                }
            else:
                previous = self.state.get(lead_id) or {"hubspot_id": None, "agreed": None, "sync_hash": None}
                self.state[lead_id] = previous | {
                    "status": "error",
                    "hubspot_id": previous["hubspot_id"] or hubspot_id,
                }
        self.cursor = min([start, *failed_contacts])
        self.write_calls += writes
        return writes


def expected_hash(agreed: dict[str, str], mapping_set: MappingSet) -> str | None:
    return hash_agreed([agreed], mapping_set.pushed_columns)[0]
