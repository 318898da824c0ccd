"""HubSpot's `contact.privacyDeletion` erases the person in ColdCopy, through the real receiver (signed
deliveries to POST /webhooks), PostgreSQL and the sandbox: with its `contact.deletion` in either order, in
one batch or two with a sync between them, and delivered twice, the person is erased once (one erasure row,
one audit entry) and the sync pulls nothing back. Erasures ColdCopy asks for are test_privacy_api.py."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from api_support import Tenant, make_tenant
from fastapi.testclient import TestClient
from test_oauth import connect
from test_webhooks import event, post

from hubspot_pipeline.db.tables import hubspot_sync_status, leads, webhook_events
from hubspot_pipeline.privacy.keys import email_key, hash_secret
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.connection import workspace_client
from hubspot_pipeline.sync.engine import run_contact_sync
from tests.activities.builders import add_lead, sync_contacts
from tests.privacy.support import erasures


def _deliver(client: TestClient, hub_id: int, contact_id: int, kinds: list[str]) -> None:
    batch = [
        event(
            hub_id,
            objectId=contact_id,
            subscriptionType=f"contact.{kind}",
            propertyName=None,
            propertyValue=None,
        )
        for kind in kinds
    ]
    assert post(client, batch).status_code == 200
    if "privacyDeletion" in kinds:  # HubSpot sometimes sends the same notification again
        assert (
            post(
                client, batch[kinds.index("privacyDeletion") : kinds.index("privacyDeletion") + 1]
            ).status_code
            == 200
        )


def _sync(engine: sa.Engine, tenant: Tenant):
    hubspot = workspace_client(engine, tenant.workspace_id)
    try:
        return run_contact_sync(engine, hubspot, tenant.workspace_id, search_lag_seconds=-3)
    finally:
        hubspot.close()


@pytest.mark.parametrize(
    "deliveries",
    [
        [["privacyDeletion", "deletion"]],
        [["deletion", "privacyDeletion"]],
        [["privacyDeletion"], ["deletion"]],
        [["deletion"], ["privacyDeletion"]],
    ],
    ids=["one-batch", "one-batch-deletion-first", "privacy-first", "deletion-first"],
)
def test_a_privacy_deletion_and_its_deletion_erase_the_person_once(
    client: TestClient, engine: sa.Engine, sandbox_api: SandboxHandle, deliveries: list[list[str]]
) -> None:
    tenant = make_tenant(engine, connected=False)
    hub_id, _, _ = connect(client, tenant, sandbox_api)
    email = f"gone.{uuid.uuid4().hex[:8]}@privacy-test.example.com"
    lead_id = add_lead(engine, tenant.workspace_id, email, first="Ottoline", last="Vexley")
    kept = add_lead(engine, tenant.workspace_id, f"kept.{uuid.uuid4().hex[:8]}@privacy-test.example.com")
    hubspot = workspace_client(engine, tenant.workspace_id)
    try:
        sync_contacts(engine, hubspot, tenant.workspace_id)
        with engine.connect() as conn:
            contact_id = int(
                conn.execute(
                    sa.select(hubspot_sync_status.c.hubspot_id).where(
                        hubspot_sync_status.c.entity_id == lead_id
                    )
                ).scalar_one()
            )
        hubspot.gdpr_delete(str(contact_id))  # a HubSpot user erases the contact
    finally:
        hubspot.close()

    for batch in deliveries:
        _deliver(client, hub_id, contact_id, batch)
        _sync(engine, tenant)
    # HubSpot retries both a day later (new deliveries of the same notifications): nothing more happens.
    _deliver(client, hub_id, contact_id, ["deletion", "privacyDeletion"])
    report = _sync(engine, tenant)

    with engine.connect() as conn:
        remaining = conn.execute(
            sa.select(leads.c.id).where(leads.c.workspace_id == tenant.workspace_id)
        ).scalars()
        left_events = conn.execute(
            sa.select(sa.func.count())
            .select_from(webhook_events)
            .where(
                webhook_events.c.workspace_id == tenant.workspace_id, webhook_events.c.object_id == contact_id
            )
        ).scalar_one()
        pair = conn.execute(
            sa.select(hubspot_sync_status).where(hubspot_sync_status.c.entity_id == lead_id)
        ).first()
    rows, audited = erasures(engine, tenant.workspace_id)
    assert list(remaining) == [kept]
    assert len(rows) == 1 and rows[0].source == "hubspot"
    assert rows[0].email_key == email_key(hash_secret(), email)
    assert rows[0].hubspot_ids == [str(contact_id)] and rows[0].hubspot_status == "deleted_by_hubspot"
    assert [(a["status"], a["source"]) for a in audited] == [("erased", "hubspot")]
    assert pair is None and report.counts["pull_new"] == 0
    # Every event about the contact went with the erasure (a later one, with the repeat that found nobody).
    assert left_events == 0
