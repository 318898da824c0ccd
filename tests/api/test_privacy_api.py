"""POST /privacy/erasures (GDPR erasure asked by ColdCopy) against PostgreSQL and the sandbox over HTTP.
Attacker's tests first (another workspace's lead, bad ids and bodies, unknown emails, SQL and LIKE
metacharacters in the email); then a person with a lead, a contact, conflicts, webhook events, messages,
activity, engagement and executions is erased: pg_dump of the whole database finds neither the email nor the
name, the sandbox shows the GDPR delete, the next full resync re-creates neither the contact nor the lead,
and a second request is a no-op that says so. HubSpot's privacyDeletion is tests/privacy/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_support import Tenant, url
from fastapi.testclient import TestClient
from test_oauth import connect
from test_webhooks import event, post

from hubspot_pipeline.db.tables import (
    alerts,
    audit_log,
    email_events,
    email_messages,
    engagement_events,
    hubspot_activity_log,
    hubspot_sync_status,
    hubspot_workflow_executions,
    lead_engagement,
    leads,
    privacy_erasures,
    sync_conflicts,
    webhook_events,
)
from hubspot_pipeline.privacy.keys import email_key, hash_secret
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.connection import workspace_client
from hubspot_pipeline.sync.engine import run_contact_sync
from tests.activities.builders import add_lead, sync_contacts
from tests.privacy.support import erasures, pg_dump

ERASE = url("/privacy/erasures")


def lead_count(engine: sa.Engine, workspace_id: uuid.UUID) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(leads).where(leads.c.workspace_id == workspace_id)
        ).scalar_one()


# --- what a stranger controls ------------------------------------------------------------------------------


def test_a_lead_of_another_workspace_is_not_found_and_stays(
    client: TestClient, engine: sa.Engine, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = add_lead(engine, other_tenant.workspace_id, "theirs@example.com")
    by_id = client.post(ERASE, json={"lead_id": str(theirs)}, headers=tenant.headers)
    by_email = client.post(ERASE, json={"email": "theirs@example.com"}, headers=tenant.headers)
    assert by_id.status_code == 404 and by_id.json()["error"]["code"] == "person_not_found"
    assert by_email.status_code == 404
    assert str(other_tenant.workspace_id) not in by_id.text + by_email.text
    assert lead_count(engine, other_tenant.workspace_id) == 1
    named = client.post(
        ERASE,
        json={"lead_id": str(theirs)},
        headers={**tenant.headers, "X-Workspace-Id": str(other_tenant.workspace_id)},
    )
    assert named.status_code == 403 and lead_count(engine, other_tenant.workspace_id) == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"lead_id": "not-a-uuid"}, "lead_id"),
        ({"lead_id": "1 OR 1=1"}, "lead_id"),
        ({}, "exactly one of lead_id or email"),
        ({"lead_id": str(uuid.uuid4()), "email": "a@example.com"}, "exactly one"),
        ({"email": "no-at-sign"}, "has no @"),
        ({"email": "nul\u0000@example.com"}, "control characters"),
        ({"email": "x" * 400 + "@example.com"}, "email"),
        ({"email": "a@example.com", "workspace": "other"}, "workspace"),
        ({"email": ["a@example.com"]}, "email"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    client: TestClient, engine: sa.Engine, tenant: Tenant, body: dict, named: str
) -> None:
    add_lead(engine, tenant.workspace_id, "a@example.com")
    response = client.post(ERASE, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert named in response.json()["error"]["message"]
    assert lead_count(engine, tenant.workspace_id) == 1


def test_an_unknown_id_or_email_is_not_found_and_nothing_changes(
    client: TestClient, engine: sa.Engine, tenant: Tenant
) -> None:
    add_lead(engine, tenant.workspace_id, "kept@example.com")
    for body in ({"lead_id": str(uuid.uuid4())}, {"email": "nobody@example.com"}):
        response = client.post(ERASE, json=body, headers=tenant.headers)
        assert response.status_code == 404 and "emails compare case-insensitively" in response.text
    assert lead_count(engine, tenant.workspace_id) == 1


@pytest.mark.parametrize(
    "email",
    [
        "' OR '1'='1@example.com",
        "kept@example.com' OR 1=1 --",
        "%@%",
        "_ept@example.com",
        "kept@example.com'); DELETE FROM leads; --",
        "KEPT@EXAMPLE.COM\\",
    ],
)
def test_sql_and_pattern_characters_in_the_email_match_nothing(
    client: TestClient, engine: sa.Engine, tenant: Tenant, email: str
) -> None:
    add_lead(engine, tenant.workspace_id, "kept@example.com")
    response = client.post(ERASE, json={"email": email}, headers=tenant.headers)
    assert response.status_code == 404, response.text
    assert lead_count(engine, tenant.workspace_id) == 1
    with engine.connect() as conn:
        assert not conn.execute(
            sa.select(privacy_erasures).where(privacy_erasures.c.workspace_id == tenant.workspace_id)
        ).first()


# --- a whole person ------------------------------------------------------------------------------------------


@pytest.fixture
def connected(
    client: TestClient, engine: sa.Engine, tenant: Tenant, sandbox_api: SandboxHandle
) -> tuple[Tenant, int]:
    """`tenant`'s workspace connected over OAuth to a new sandbox portal (the API's own HubSpot)."""
    from api_support import make_tenant

    fresh = make_tenant(engine, connected=False)
    hub_id, _, _ = connect(client, fresh, sandbox_api)
    fresh.hub_id = hub_id
    return fresh, hub_id


class Person:
    """A person with a name and an email no other test uses, so the dump can be searched for them."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.first, self.last = f"Zephyrine{tag}", f"Quillfeather{tag}"
        self.email = f"zq.{tag}@erasure-test.example.com"

    def traces(self) -> list[str]:
        return [self.email.lower(), self.first.lower(), self.last.lower()]


def _give_the_person_everything(
    client: TestClient, engine: sa.Engine, tenant: Tenant, hub_id: int, sandbox: SandboxHandle, who: Person
) -> tuple[uuid.UUID, str]:
    """A lead synced to a contact, a conflict on jobtitle, webhook events (processed and queued), messages
    and events, an activity log row, engagement, a trigger execution, and audit and alert details that quote
    the address. Returns the lead id and the contact id."""
    lead_id = add_lead(engine, tenant.workspace_id, who.email, first=who.first, last=who.last)
    hubspot = workspace_client(engine, tenant.workspace_id)
    try:
        sync_contacts(engine, hubspot, tenant.workspace_id)
        with engine.connect() as conn:
            contact_id = conn.execute(
                sa.select(hubspot_sync_status.c.hubspot_id).where(hubspot_sync_status.c.entity_id == lead_id)
            ).scalar_one()
        # Both sides change jobtitle: a conflict holding both values (the name in each).
        sandbox.admin.ui_edit(contact_id, {"jobtitle": f"VP {who.last}"}, hub_id=hub_id)
        with engine.begin() as conn:
            conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(title=f"CTO {who.first}"))
        changed = event(
            hub_id, objectId=int(contact_id), propertyName="jobtitle", propertyValue=f"VP {who.last}"
        )
        assert post(client, [changed]).status_code == 200
        sync_contacts(engine, hubspot, tenant.workspace_id)
    finally:
        hubspot.close()
    queued = event(hub_id, objectId=int(contact_id), propertyName="firstname", propertyValue=who.first)
    assert post(client, [queued]).status_code == 200
    at = datetime.now(UTC) - timedelta(hours=1)
    with engine.begin() as conn:
        message_id = conn.execute(
            sa.insert(email_messages)
            .values(
                workspace_id=tenant.workspace_id,
                lead_id=lead_id,
                direction="received",
                message_id_header=f"<{uuid.uuid4().hex}@mail.example.com>",
                from_address=who.email,
                from_name=f"{who.first} {who.last}",
                to_address="sam@coldcopy-test.example.com",
                subject=f"Re: hello {who.first}",
                body_text=f"Yes - {who.first} {who.last}",
                sent_at=at,
            )
            .returning(email_messages.c.id)
        ).scalar_one()
        event_id = conn.execute(
            sa.insert(email_events)
            .values(
                workspace_id=tenant.workspace_id,
                lead_id=lead_id,
                event_type="replied",
                occurred_at=at,
                message_id=message_id,
                metadata={"from": who.email},
            )
            .returning(email_events.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(hubspot_activity_log).values(
                workspace_id=tenant.workspace_id,
                lead_id=lead_id,
                email_event_id=event_id,
                hubspot_contact_id=contact_id,
                activity_type="replied",
                activity_data={"message_id": f"<{who.first}@mail.example.com>"},
                status="logged",
                hubspot_object_type="email",
                hubspot_object_id="9",
            )
        )
        conn.execute(
            sa.insert(hubspot_sync_status).values(
                workspace_id=tenant.workspace_id,
                entity_type="activity",
                entity_id=event_id,
                status="error",
                error_message=f"contact {who.email} refused",
            )
        )
        conn.execute(
            sa.insert(lead_engagement).values(
                lead_id=lead_id, workspace_id=tenant.workspace_id, score=70, reference_date=at.date()
            )
        )
        conn.execute(
            sa.insert(engagement_events).values(
                workspace_id=tenant.workspace_id,
                lead_id=lead_id,
                kind="intent_decided",
                intent="interested",
                confidence=0.9,
                message_id=message_id,
            )
        )
        conn.execute(
            sa.insert(hubspot_workflow_executions).values(
                workspace_id=tenant.workspace_id,
                event_id=str(event_id),
                event_type="positive_reply",
                event_key=f"reply:{message_id}",
                lead_id=lead_id,
                hubspot_contact_id=contact_id,
                status="pending",
                metadata={"event": {"lead": {"email": who.email, "first_name": who.first}}},
            )
        )
        conn.execute(
            sa.insert(audit_log).values(
                workspace_id=tenant.workspace_id, actor="test", action="leak", details={"who": who.email}
            )
        )
        now = datetime.now(UTC)
        conn.execute(
            sa.insert(alerts).values(
                key=f"test:{uuid.uuid4()}",
                rule="test",
                severity="warning",
                workspace_id=tenant.workspace_id,
                status="firing",
                summary="test",
                details={"sample": who.email.upper()},  # scrubbed by address, never by a name
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    return lead_id, str(contact_id)


def _rows_naming(engine: sa.Engine, workspace_id: uuid.UUID, lead_id: uuid.UUID, contact_id: str) -> dict:
    with engine.connect() as conn:
        count = lambda table, *where: conn.execute(  # noqa: E731
            sa.select(sa.func.count()).select_from(table).where(*where)
        ).scalar_one()
        return {
            "conflicts": count(sync_conflicts, sync_conflicts.c.lead_id == lead_id),
            "webhook_events": count(
                webhook_events,
                webhook_events.c.workspace_id == workspace_id,
                webhook_events.c.object_id == int(contact_id),
            ),
            "messages": count(email_messages, email_messages.c.lead_id == lead_id),
            "activity": count(hubspot_activity_log, hubspot_activity_log.c.lead_id == lead_id),
            "executions": count(
                hubspot_workflow_executions, hubspot_workflow_executions.c.lead_id == lead_id
            ),
        }


def test_an_erased_person_is_nowhere_in_the_database_nor_in_hubspot_and_stays_erased(
    client: TestClient,
    engine: sa.Engine,
    database_url: str,
    connected: tuple[Tenant, int],
    sandbox_api: SandboxHandle,
) -> None:
    tenant, hub_id = connected
    who = Person()
    lead_id, contact_id = _give_the_person_everything(client, engine, tenant, hub_id, sandbox_api, who)
    before = _rows_naming(engine, tenant.workspace_id, lead_id, contact_id)
    assert all(before.values()), before  # the person really is in every one of them
    dump = pg_dump(engine, database_url).lower()
    assert all(trace in dump for trace in who.traces())

    response = client.post(ERASE, json={"lead_id": str(lead_id)}, headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "erased" and body["hubspot"] == "deleted"
    assert body["deleted"]["leads"] == 1 and body["deleted"]["sync_conflicts"] >= 1
    dump = pg_dump(engine, database_url).lower()
    leaks = [line for line in dump.splitlines() if any(trace in line for trace in who.traces())]
    assert leaks == []
    assert not any(_rows_naming(engine, tenant.workspace_id, lead_id, contact_id).values())
    deletes = sandbox_api.admin.gdpr_deletions(hub_id=hub_id)
    assert [d["deletedId"] for d in deletes["results"]] == [contact_id]
    assert who.email in deletes["blocklist"]
    (kept,), audited = erasures(engine, tenant.workspace_id)
    assert kept.email_key == email_key(hash_secret(), who.email) and kept.hubspot_status == "deleted"
    assert kept.hubspot_ids == [contact_id]
    assert [a["status"] for a in audited] == ["erased"]

    # The person comes back on both sides: a HubSpot form re-creates the contact, ColdCopy re-imports the lead.
    hubspot = workspace_client(engine, tenant.workspace_id)
    try:
        hubspot.create("contacts", {"email": who.email, "firstname": who.first})
        report = run_contact_sync(engine, hubspot, tenant.workspace_id, full=True, search_lag_seconds=-3)
        assert report.counts["skipped_erased"] >= 1 and report.counts["pull_new"] == 0
        assert lead_count(engine, tenant.workspace_id) == 0  # the contact did not become a lead
        contact = hubspot.get("contacts", who.email, ["email"], id_property="email")
        assert contact is not None
        hubspot.archive("contacts", contact["id"])
        add_lead(engine, tenant.workspace_id, who.email.upper(), first=who.first, last=who.last)
        sandbox_api.admin.reset_counters()
        report = run_contact_sync(engine, hubspot, tenant.workspace_id, full=True, search_lag_seconds=-3)
        assert report.counts["push"] == 0 and report.counts["skipped_erased"] >= 1
        assert hubspot.get("contacts", who.email, ["email"], id_property="email") is None
    finally:
        hubspot.close()
    assert sandbox_api.admin.calls("POST /crm/v3/objects/contacts/batch/upsert", hub_id=hub_id) == 0

    # A second request for the erased person (by the old lead id) is a no-op, and says so.
    again = client.post(ERASE, json={"lead_id": str(lead_id)}, headers=tenant.headers)
    assert again.status_code == 200 and again.json()["status"] == "already_erased"
    assert again.json()["deleted"] == {}
    assert len(sandbox_api.admin.gdpr_deletions(hub_id=hub_id)["results"]) == 1


def test_an_erasure_by_email_of_a_workspace_without_hubspot_says_so(
    client: TestClient, engine: sa.Engine, tenant: Tenant
) -> None:
    with engine.begin() as conn:  # `tenant` has a connection row with fake tokens: make it unconnected
        conn.execute(
            sa.text("DELETE FROM hubspot_integrations WHERE workspace_id = :w"), {"w": tenant.workspace_id}
        )
    add_lead(engine, tenant.workspace_id, "Solo.Person@Example.com")
    first = client.post(ERASE, json={"email": "solo.person@example.com "}, headers=tenant.headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "erased" and first.json()["hubspot"] == "not_connected"
    second = client.post(ERASE, json={"email": "SOLO.PERSON@example.com"}, headers=tenant.headers)
    assert second.json()["status"] == "already_erased" and lead_count(engine, tenant.workspace_id) == 0
