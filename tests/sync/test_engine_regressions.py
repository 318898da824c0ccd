"""Regressions of issue #9 on the real engine: PostgreSQL, the sandbox over HTTP, the real client. Each test
replays an everyday two-sided history that once lost or corrupted data, and checks both sides afterwards.

Random two-sided histories are the stateful test's job; these pin the six defects it was written to catch,
one named history each.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_field_mappings, leads
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.mapping import DEFAULT_CONTACT_MAPPINGS
from tests.sync.test_engine_sandbox import add_leads, contacts, sync, write_calls


def use_mappings(engine: sa.Engine, workspace_id: uuid.UUID, *extra: dict[str, str]) -> None:
    """The default contact mappings plus `extra` ones, as rows of the workspace's mapping table."""
    rows = [
        {
            "workspace_id": workspace_id,
            "coldcopy_field": m.coldcopy_field,
            "hubspot_property": m.hubspot_property,
            "direction": m.direction,
            "transform_function": m.transform_function,
        }
        for m in DEFAULT_CONTACT_MAPPINGS
    ]
    rows += [
        {"workspace_id": workspace_id, "direction": "bidirectional", "transform_function": None, **m}
        for m in extra
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(hubspot_field_mappings), rows)


def custom_fields(engine: sa.Engine, workspace_id: uuid.UUID, email: str) -> object:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(leads.c.custom_fields).where(
                leads.c.workspace_id == workspace_id, leads.c.email == email
            )
        ).scalar_one()


def test_a_custom_field_pulled_from_hubspot_keeps_custom_fields_an_object(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.1: the pull's `custom_fields || value` encoded the value twice, so the column became
    # [{"industry": "Media"}, "{\"industry\": \"Publishing\"}"]; the next run read the field as empty and
    # cleared it in HubSpot too.
    use_mappings(
        engine, workspace_id, {"coldcopy_field": "custom_fields.industry", "hubspot_property": "industry_cc"}
    )
    add_leads(
        engine,
        workspace_id,
        [
            {
                "email": "media@example.com",
                "custom_fields": {"industry": "Media", "seats": 12, "note": "née ✓"},
            }
        ],
    )
    sync(engine, hubspot_client, workspace_id)
    contact_id = contacts(hubspot_client)["media@example.com"]["id"]
    hubspot_sandbox.admin.ui_edit(contact_id, {"industry_cc": "Publishing"})

    assert sync(engine, hubspot_client, workspace_id).errors == 0
    assert custom_fields(engine, workspace_id, "media@example.com") == {
        "industry": "Publishing",
        "seats": 12,
        "note": "née ✓",
    }
    before = write_calls(hubspot_sandbox)
    again = sync(engine, hubspot_client, workspace_id)
    assert again.counts["push"] == 0 and again.counts["pull"] == 0
    assert write_calls(hubspot_sandbox) == before
    [record] = hubspot_client.batch_read("contacts", [contact_id], ["industry_cc"]).results
    assert record["properties"]["industry_cc"] == "Publishing"
