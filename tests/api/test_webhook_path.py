"""The webhook path over real HTTP: the sandbox (as HubSpot) delivers signed webhooks for a contact edited in
its UI surface to `hubspot-pipeline serve`, which queues them for the workspace connected to that portal; the
webhook sensor then asks for that workspace's run."""

from __future__ import annotations

import time

import dagster as dg
import httpx
import sqlalchemy as sa
from api_support import Tenant, portal_headers

from hubspot_pipeline.db.tables import webhook_events, workspaces
from hubspot_pipeline.defs.webhooks import sensors
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.sandbox.testing import SandboxHandle


def _queued(engine: sa.Engine, tenant: Tenant, after_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(webhook_events)
            .where(webhook_events.c.workspace_id == tenant.workspace_id, webhook_events.c.id > after_id)
            .order_by(webhook_events.c.id)
        ).all()


def test_a_contact_edited_in_hubspot_reaches_the_queue_and_the_sensor_asks_for_a_run(
    engine: sa.Engine, served_api, hubspot_sandbox: SandboxHandle, webhook_tenant: tuple[Tenant, int]
) -> None:
    tenant, hub_id = webhook_tenant
    with engine.connect() as conn:
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(webhook_events.c.id), 0))).scalar_one()
    admin = hubspot_sandbox.admin
    created = httpx.post(
        f"{hubspot_sandbox.base_url}/crm/v3/objects/contacts",
        json={"properties": {"email": "ada@example.com", "firstname": "Ada"}},
        headers=portal_headers(hubspot_sandbox, hub_id),
    )
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    admin.ui_edit(contact_id, {"firstname": "Augusta"}, hub_id=hub_id)
    admin.flush_webhooks()
    deadline = time.monotonic() + 20
    while len(rows := _queued(engine, tenant, start)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    by_type = {row.subscription_type: row for row in rows}
    assert set(by_type) >= {"contact.creation", "contact.propertyChange"}
    change = by_type["contact.propertyChange"]
    assert (change.object_id, change.property_name, change.property_value) == (
        int(contact_id),
        "firstname",
        "Augusta",
    )
    assert change.change_source == "CRM_UI" and change.portal_id == hub_id
    resources = {"sync_settings": SyncSettingsResource()}  # the test database, through DATABASE_URL
    with dg.instance_for_test() as instance:
        result = sensors.webhook_queue_sensor(
            dg.build_sensor_context(instance=instance, cursor=str(start), resources=resources)
        )
    with engine.connect() as conn:
        slug = conn.execute(
            sa.select(workspaces.c.slug).where(workspaces.c.id == tenant.workspace_id)
        ).scalar_one()
    mine = [r for r in result.run_requests if r.partition_key == slug]
    assert len(mine) == 1
