"""The world the stateful sync test drives: one workspace in PostgreSQL and its own portal in the HubSpot
sandbox, changed the way people change them, and synced by the real engine.

- ColdCopy side: leads inserted, updated, soft and hard deleted with plain SQL, so the outbox trigger
  records them as it records the app's writes. Each change's outbox rows are stamped with the world clock.
- HubSpot side: contacts created, edited in the UI one property at a time, archived, restored and merged
  through the sandbox (its admin surface for UI edits and restores, the API for the rest).
- The world clock is the sandbox clock. Every change first moves it forward, so each change has its own
  time, the same on both sides, and `latest` can be checked exactly (HubSpot's property history, webhook
  `occurredAt` and the outbox's `changed_at` all read it).
- Webhooks: the sandbox delivers to a local receiver; deliveries are stored by the API's own ingestion
  (`parse_events` + `store_events`), duplicates and all.
- A sync is what `contacts_sync_job` runs: the field-mapping stage (`ensure_hubspot_properties`), then
  `run_contact_sync` (leads, contacts, plan, push, record, companies). A killed run uses a client whose
  transport raises after K write calls (the K-th write reaches HubSpot, its answer never returns).

Observations (`leads()`, `contacts()`, `state()`) read PostgreSQL and the sandbox's memory directly, so they
count as no API call.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from hubspot_pipeline.api.webhook_ingest import parse_events, store_events
from hubspot_pipeline.db.tables import (
    hubspot_field_mappings,
    hubspot_integrations,
    hubspot_sync_config,
    hubspot_sync_status,
    leads,
    workspaces,
)
from hubspot_pipeline.hubspot import HubSpotClient, HubSpotError, PrivateAppToken, RetryPolicy
from hubspot_pipeline.sandbox.object_types import resolve_object_type
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.engine import SyncReport, prepare, run_contact_sync
from hubspot_pipeline.sync.properties import ensure_hubspot_properties

# The sandbox has no index lag here, and the client learns HubSpot's clock from the Date header in whole
# seconds: a horizon a little in the future reads every write made so far.
SEARCH_LAG = -3.0
# lead field -> HubSpot property (the canonical column). All bidirectional with `trim`, but the status.
FIELDS = {
    "email": "email",
    "first_name": "firstname",
    "title": "jobtitle",
    "custom_fields.segment": "coldcopy_segment",
}
STATUS = "coldcopy_lead_status"  # to_hubspot: the lead's status is the truth, HubSpot edits are left alone
MAPPINGS = [
    {"coldcopy_field": "email", "hubspot_property": "email", "transform_function": "trim | lowercase"},
    {"coldcopy_field": "first_name", "hubspot_property": "firstname", "transform_function": "trim"},
    {"coldcopy_field": "title", "hubspot_property": "jobtitle", "transform_function": "trim"},
    {
        "coldcopy_field": "custom_fields.segment",
        "hubspot_property": "coldcopy_segment",
        "transform_function": None,
    },
    {"coldcopy_field": "status", "hubspot_property": STATUS, "transform_function": None},
]
MAPPINGS = [{"direction": "bidirectional", **m} for m in MAPPINGS]
MAPPINGS[-1]["direction"] = "to_hubspot"
WEBHOOK_TYPES = [
    "contact.creation",
    "contact.deletion",
    "contact.merge",
    "contact.restore",
    *("company.creation", "company.deletion", "company.merge"),
]
WRITE_METHODS = ("POST ", "PATCH ", "PUT ", "DELETE ")
READ_SUFFIXES = ("/search", "/batch/read")


class RunKilled(Exception):
    """The process running the sync died (raised by KillAfterWrites)."""


class KillAfterWrites(httpx.BaseTransport):
    """An HTTP transport that dies after `writes` write calls went through: the last one reached HubSpot
    and was applied, its answer is lost, as when the run's process is killed mid-push."""

    def __init__(self, writes: int) -> None:
        self.left = writes
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if is_write(f"{request.method} {request.url.path}"):
            self.left -= 1
            if self.left <= 0:
                response.read()
                response.close()
                raise RunKilled(f"killed after the write {request.method} {request.url.path}")
        return response

    def close(self) -> None:
        self.inner.close()


def is_write(endpoint: str) -> bool:
    return endpoint.startswith(WRITE_METHODS) and not endpoint.endswith(READ_SUFFIXES)


def canonical(column: str, value: object) -> str:
    """What the mappings make of a lead value (trim; the email also lowercased)."""
    text = "" if value is None else str(value)
    text = text.strip() if column != "coldcopy_segment" else text
    return text.lower() if column == "email" else text


@dataclass
class Delivery:
    events: list[dict[str, Any]]


class World:
    def __init__(
        self,
        engine: sa.Engine,
        sandbox: SandboxHandle,
        receiver: Any,
        *,
        policy: str,
        on_archive: str,
        overrides: dict[str, str] | None = None,
        property_webhooks: bool,
        duplicate_webhooks: float,
    ) -> None:
        self.engine, self.sandbox, self.receiver = engine, sandbox, receiver
        self.admin = sandbox.admin
        sandbox.restore()
        receiver.deliveries.clear()
        self.hub_id, token = self.admin.add_portal(hub_id=700_000_000 + uuid.uuid4().int % 99_999_999)
        self.admin.configure(
            rate_limits_enabled=False, webhooks={"duplicate_probability": duplicate_webhooks}
        )
        self.token = token
        self.client = self.new_client()
        with engine.begin() as conn:
            slug = f"sm-{uuid.uuid4().hex[:10]}"
            self.workspace_id = conn.execute(
                sa.insert(workspaces).values(name=slug, slug=slug).returning(workspaces.c.id)
            ).scalar_one()
            conn.execute(
                sa.insert(hubspot_sync_config).values(
                    workspace_id=self.workspace_id, conflict_policy=policy, on_hubspot_archive=on_archive
                )
            )
            conn.execute(
                sa.insert(hubspot_field_mappings),
                [
                    {
                        "workspace_id": self.workspace_id,
                        **m,
                        "conflict_policy": (overrides or {}).get(m["hubspot_property"]),
                    }
                    for m in MAPPINGS
                ],
            )
            conn.execute(
                sa.insert(hubspot_integrations).values(
                    workspace_id=self.workspace_id, hub_id=str(self.hub_id), refresh_token="ciphertext"
                )
            )
        ensure_hubspot_properties(prepare(engine, self.client, self.workspace_id))
        types = [*WEBHOOK_TYPES, *(f"contact.propertyChange:{p}" for p in [*FIELDS.values(), STATUS])]
        self._subscribe(types if property_webhooks else WEBHOOK_TYPES)
        self.delivered: list[Delivery] = []
        self._emails = itertools.count(1)
        self._values = itertools.count(1)

    def close(self) -> None:
        self.client.close()
        with self.engine.begin() as conn:  # the hub id is this world's own; nothing else routes to it
            conn.execute(
                sa.delete(hubspot_integrations).where(
                    hubspot_integrations.c.workspace_id == self.workspace_id
                )
            )

    def new_client(self, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None):
        return HubSpotClient(
            self.sandbox.base_url,
            auth=PrivateAppToken(self.token),
            retry=retry or RetryPolicy(),
            transport=transport,
            sleep=lambda seconds: None,  # retries at once: the sandbox's faults are not time-based
        )

    def _subscribe(self, event_types: list[str]) -> None:
        with httpx.Client(
            base_url=f"{self.sandbox.base_url}/webhooks/v3/{self.sandbox.app_id}",
            params={"hapikey": self.sandbox.developer_api_key},
        ) as developer:
            developer.put(
                "/settings",
                json={
                    "targetUrl": self.receiver.url,
                    "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"},
                },
            ).raise_for_status()
            for event_type in event_types:
                kind, _, prop = event_type.partition(":")
                body = {"eventType": kind, "active": True, **({"propertyName": prop} if prop else {})}
                developer.post("/subscriptions", json=body).raise_for_status()

    # --- fresh values ---------------------------------------------------------------------------------
    def fresh_email(self, *, valid: bool = True) -> str:
        n = next(self._emails)
        return f"person{n}@example.com" if valid else f"person{n}@invalid"

    def fresh_value(self, flavour: str) -> str:
        return f"{flavour}{next(self._values)}"

    # --- the clock ------------------------------------------------------------------------------------
    def tick(self, seconds: float = 7.0) -> int:
        """Move the world clock forward; returns the new time (ms)."""
        return self.admin.advance(seconds)

    # --- ColdCopy -------------------------------------------------------------------------------------
    def _stamp_outbox(self, conn: sa.Connection, after_id: int, at_ms: int) -> None:
        conn.execute(
            sa.text(
                "UPDATE lead_changes SET changed_at = to_timestamp(:at / 1000.0) "
                "WHERE workspace_id = :ws AND id > :after"
            ),
            {"at": at_ms, "ws": self.workspace_id, "after": after_id},
        )

    def _outbox_top(self, conn: sa.Connection) -> int:
        return conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM lead_changes")).scalar_one()

    def insert_lead(self, values: dict[str, Any]) -> tuple[str, int]:
        at = self.tick()
        custom = {
            k.split(".", 1)[1]: v
            for k, v in values.items()
            if k.startswith("custom_fields.") and v is not None
        }
        columns = {k: v for k, v in values.items() if not k.startswith("custom_fields.")}
        with self.engine.begin() as conn:
            top = self._outbox_top(conn)
            lead_id = conn.execute(
                sa.insert(leads)
                .values(workspace_id=self.workspace_id, custom_fields=custom, **columns)
                .returning(leads.c.id)
            ).scalar_one()
            self._stamp_outbox(conn, top, at)
        return str(lead_id), at

    def update_lead(self, lead_id: str, field: str, value: str | None) -> tuple[int, bool]:
        """The change's time, and whether the stored value changed at all (writing what is there is no
        change; a different case or padding of one canonical value is)."""
        at = self.tick()
        with self.engine.begin() as conn:
            top = self._outbox_top(conn)
            where = (leads.c.id == uuid.UUID(lead_id), leads.c.workspace_id == self.workspace_id)
            if field.startswith("custom_fields."):
                key = field.split(".", 1)[1]
                before = conn.execute(sa.select(leads.c.custom_fields).where(*where)).scalar_one()
                changed = (before or {}).get(key, self) != (self if value is None else value)
                new = (
                    leads.c.custom_fields.op("-")(key)
                    if value is None
                    else leads.c.custom_fields.op("||")(sa.func.jsonb_build_object(key, value))
                )
                conn.execute(sa.update(leads).where(*where).values(custom_fields=new))
            else:
                before = conn.execute(sa.select(leads.c[field]).where(*where)).scalar_one()
                changed = before != value
                conn.execute(sa.update(leads).where(*where).values({field: value}))
            self._stamp_outbox(conn, top, at)
        return at, changed

    def raw_email(self, lead_id: str) -> str:
        """The lead's email as ColdCopy shows it (a person retyping it sees this)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(leads.c.email).where(leads.c.id == uuid.UUID(lead_id))).scalar_one()

    def delete_lead(self, lead_id: str, *, hard: bool) -> int:
        at = self.tick()
        with self.engine.begin() as conn:
            top = self._outbox_top(conn)
            where = (leads.c.id == uuid.UUID(lead_id), leads.c.workspace_id == self.workspace_id)
            if hard:
                conn.execute(sa.delete(leads).where(*where))
            else:
                conn.execute(sa.update(leads).where(*where).values(deleted_at=sa.func.now()))
            self._stamp_outbox(conn, top, at)
        return at

    # --- HubSpot --------------------------------------------------------------------------------------
    def _modified_ms(self, record: dict[str, Any]) -> int:
        from hubspot_pipeline.hubspot.search import modified_ms

        return modified_ms(record, "lastmodifieddate")

    def create_contact(self, properties: dict[str, str]) -> tuple[str, int]:
        self.tick()
        record = self.client.create("contacts", properties)
        return str(record["id"]), self._modified_ms(record)

    def edit_contact(self, contact_id: str, prop: str, value: str) -> int:
        self.tick()
        record = self.admin.ui_edit(contact_id, {prop: value}, hub_id=self.hub_id)
        return self._modified_ms(record)

    def archive_contact(self, contact_id: str) -> int:
        at = self.tick()
        self.client.archive("contacts", contact_id)
        return at

    def restore_contact(self, contact_id: str) -> bool:
        """False when HubSpot refuses: another contact took its email (or holds it as an additional one)."""
        self.tick()
        try:
            self.admin.restore(contact_id, hub_id=self.hub_id)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 409:
                raise
            return False
        return True

    def merge_contacts(self, primary: str, other: str) -> tuple[str, dict[str, str], int]:
        """HubSpot merges `other` into `primary`: the survivor's id, its properties, the merge's time."""
        self.tick()
        response = self.client.call(
            "POST",
            "/crm/v3/objects/contacts/merge",
            json={"primaryObjectId": primary, "objectIdToMerge": other},
            endpoint="POST /crm/v3/objects/contacts/merge",
        ).body
        return str(response["id"]), dict(response["properties"]), self._modified_ms(response)

    # --- webhooks -------------------------------------------------------------------------------------
    def deliver_webhooks(self) -> int:
        """Everything the sandbox has queued is sent, received and stored as the API stores it."""
        self.admin.flush_webhooks()
        deliveries = list(self.receiver.deliveries)
        self.receiver.deliveries.clear()
        stored = 0
        for delivery in deliveries:
            events = parse_events(delivery.body)
            stored += store_events(self.engine, events, signature_version="v3").stored
            self.delivered.append(Delivery(events))
        return stored

    def redeliver(self, back: int) -> int:
        """HubSpot sends an earlier delivery again (it retries when it saw no answer in time)."""
        if not self.delivered:
            return 0
        delivery = self.delivered[-1 - back % len(self.delivered)]
        return store_events(self.engine, delivery.events, signature_version="v3").stored

    def company_event(self, object_id: str, kind: str) -> int:
        """A company event whose objectId happens to equal a contact's id (ids are per object type)."""
        at = self.tick()
        event = {
            "eventId": 900_000 + next(self._values),
            "subscriptionId": 99,
            "portalId": self.hub_id,
            "appId": self.sandbox.app_id,
            "occurredAt": at,
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeSource": "CRM_UI",
            **({"propertyName": "name", "propertyValue": "Acme"} if kind.endswith("propertyChange") else {}),
        }
        return store_events(
            self.engine, parse_events(json.dumps([event]).encode()), signature_version="v3"
        ).stored

    # --- syncing --------------------------------------------------------------------------------------
    def sync(self, client: HubSpotClient | None = None, *, full: bool = False) -> SyncReport:
        client = client or self.client
        ensure_hubspot_properties(prepare(self.engine, client, self.workspace_id))
        return run_contact_sync(
            self.engine, client, self.workspace_id, full=full, search_lag_seconds=SEARCH_LAG
        )

    def killed_sync(self, writes: int) -> bool:
        """A run killed after `writes` write calls; False if it finished before that."""
        with self.new_client(transport=KillAfterWrites(writes)) as client:
            try:
                self.sync(client)
            except RunKilled:
                return True
        return False

    def faulty_sync(self, faults: dict[str, float]) -> str:
        """A run meeting HubSpot faults with few retries; what became of it."""
        retry = RetryPolicy(network_retries=1, server_retries=1, rate_limit_retries=1, locked_retries=1)
        self.admin.configure(faults=faults)
        try:
            with self.new_client(retry=retry) as client:
                report = self.sync(client)
            return "row errors" if report.errors else "completed"
        except HubSpotError:
            return "failed"
        finally:
            self.admin.configure(faults=dict.fromkeys(faults, 0.0))

    def write_calls(self) -> int:
        by_endpoint = self.admin.counters(self.hub_id)["byEndpoint"]
        return sum(sum(s.values()) for name, s in by_endpoint.items() if is_write(name))

    # --- observing ------------------------------------------------------------------------------------
    def leads(self) -> dict[str, dict[str, Any]]:
        """Every lead by id: canonical values, `deleted`, and its raw row (for the quiet-run comparison)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id::text, email, first_name, title, custom_fields->>'segment' AS segment, status, "
                    "deleted_at IS NOT NULL AS deleted, custom_fields::text AS custom, updated_at "
                    "FROM leads WHERE workspace_id = :ws"
                ),
                {"ws": self.workspace_id},
            ).mappings()
            out = {}
            for row in rows:
                values = {
                    "email": canonical("email", row["email"]),
                    "firstname": canonical("firstname", row["first_name"]),
                    "jobtitle": canonical("jobtitle", row["title"]),
                    "coldcopy_segment": canonical("coldcopy_segment", row["segment"]),
                    STATUS: row["status"],
                }
                out[row["id"]] = {"values": values, "deleted": row["deleted"], "raw": dict(row)}
            return out

    def contacts(self) -> dict[str, dict[str, str]]:
        """Live contacts by id: the mapped properties as HubSpot holds them ("" when unset)."""
        store = self.sandbox.app.sandbox.portal(self.hub_id).store(resolve_object_type("contacts"))
        out = {}
        for record in list(store.records.values()):
            if record.archived:
                continue
            props = record.properties
            out[str(record.id)] = {
                column: (props.get(column) or "").lower() if column == "email" else props.get(column) or ""
                for column in [*FIELDS.values(), STATUS]
            }
        return out

    def state(self) -> dict[str, dict[str, Any]]:
        s = hubspot_sync_status
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    sa.cast(s.c.entity_id, sa.Text),
                    s.c.hubspot_id,
                    s.c.status,
                    s.c.agreed,
                    s.c.sync_hash,
                    s.c.attempts,
                    s.c.error_message,
                ).where(s.c.workspace_id == self.workspace_id, s.c.entity_type == "contact")
            ).all()
        return {
            r[0]: {
                "hubspot_id": r[1],
                "status": r[2],
                "agreed": r[3],
                "hash": r[4],
                "attempts": r[5],
                "error": r[6],
            }
            for r in rows
        }
