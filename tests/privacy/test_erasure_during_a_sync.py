"""An erasure committed while a contact sync run is under way (PostgreSQL, the sandbox over HTTP, the sync's
stages one by one): a push after it leaves the person out, and a record after it writes no pair state,
conflict or lead for them, even when the push had already gone out."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status, leads
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.privacy.erasure import erase_person
from hubspot_pipeline.sync import engine as sync
from hubspot_pipeline.sync.properties import ensure_hubspot_properties
from tests.activities.builders import add_lead


def _planned(engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID):
    job = sync.prepare(engine, client, workspace_id, search_lag_seconds=-3)
    ensure_hubspot_properties(job)
    changed = sync.read_changed_leads(job)
    contacts = sync.read_changed_contacts(job, changed)
    return job, changed, contacts, sync.plan_sync(job, changed, contacts)


def _state(engine: sa.Engine, workspace_id: uuid.UUID) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_sync_status.c.entity_id).where(
                hubspot_sync_status.c.workspace_id == workspace_id
            )
        ).all()


def test_a_person_erased_after_the_plan_is_not_pushed_nor_recorded(
    engine: sa.Engine, workspace_id: uuid.UUID, hubspot_client: HubSpotClient
) -> None:
    email = f"mid.{uuid.uuid4().hex[:8]}@privacy-test.example.com"
    lead_id = add_lead(engine, workspace_id, email)
    other = add_lead(engine, workspace_id, f"other.{uuid.uuid4().hex[:8]}@privacy-test.example.com")
    job, changed, contacts, plan = _planned(engine, hubspot_client, workspace_id)
    assert set(plan.contact_writes["lead_id"]) == {str(lead_id), str(other)}

    erase_person(engine, workspace_id, lead_id=lead_id, hubspot=None, actor="test")
    pushed = sync.push_contacts(job, plan)
    sync.record_sync(job, changed, contacts, plan, pushed)

    assert set(pushed.hubspot_ids) == {str(other)}
    assert hubspot_client.get("contacts", email, ["email"], id_property="email") is None
    assert _state(engine, workspace_id) == [(other,)]


def test_a_person_erased_between_the_push_and_the_record_leaves_no_state(
    engine: sa.Engine, workspace_id: uuid.UUID, hubspot_client: HubSpotClient
) -> None:
    email = f"late.{uuid.uuid4().hex[:8]}@privacy-test.example.com"
    lead_id = add_lead(engine, workspace_id, email, first="Perpetua", last="Lindqvist")
    job, changed, contacts, plan = _planned(engine, hubspot_client, workspace_id)
    pushed = sync.push_contacts(job, plan)
    assert str(lead_id) in pushed.hubspot_ids

    erase_person(engine, workspace_id, lead_id=lead_id, hubspot=None, actor="test")
    sync.record_sync(job, changed, contacts, plan, pushed)

    assert _state(engine, workspace_id) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(leads.c.id).where(leads.c.workspace_id == workspace_id)).first() is None
