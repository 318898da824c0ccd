"""Companies both ways: which domain a lead's company is and what a new company is made of, which company
mappings are accepted (pure); and the company sync against PostgreSQL and the sandbox over HTTP: companies
made from leads and pushed with their mappings' transforms, a ColdCopy edit of a company pushed, a
HubSpot-side edit pulled into `companies` (and not echoed), a conflict decided by the policy and recorded,
an archive under each policy, a merge of two companies, a lead moving to another domain (its association
moved), and second runs that write nothing. The stateful test (test_sync_state_machine.py) covers them in
random histories."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import companies, hubspot_sync_status, leads, sync_conflicts, webhook_events
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.core.companies import company_id, new_companies
from hubspot_pipeline.sync.core.mapping import (
    FieldMapping,
    compile_company_mappings,
    validate_mapping_set,
)
from tests.sync.test_engine_regressions import use_mappings
from tests.sync.test_engine_sandbox import add_leads, contacts, set_config, sync

MAPPINGS = [
    FieldMapping("company", "name", "to_hubspot", "trim | uppercase", object_type="company"),
    FieldMapping(
        "custom_fields.industry", "coldcopy_industry", "bidirectional", "trim", object_type="company"
    ),
]


def test_a_new_company_takes_the_name_and_fields_most_of_its_leads_give() -> None:
    made = new_companies(
        [
            {"id": "L1", "email": "a@acme.com", "company": " Acme ", "custom_fields": {"industry": "Tools"}},
            {"id": "L2", "email": "b@acme.com", "company": "Acme Corp", "website": "https://www.acme.com"},
            {"id": "L3", "email": "c@acme.com", "company": "Acme Corp"},
            {"id": "L4", "email": "solo@gmail.com", "company": "Solo"},
            {"id": "L5", "email": "d@initech.io"},
        ],
        ["industry"],
    )
    assert {d: (c.name, c.custom_fields, c.lead_ids) for d, c in made.items()} == {
        "acme.com": ("Acme Corp", {"industry": "Tools"}, ["L1", "L2", "L3"]),
        "initech.io": ("initech.io", {}, ["L5"]),
    }  # free mail has no company; a company no lead names is named by its domain


def test_company_mappings_read_company_fields_both_ways_and_the_domain_stays_the_key() -> None:
    problems = validate_mapping_set(
        [
            FieldMapping("name", "name", "bidirectional", object_type="company"),
            FieldMapping("website", "domain", "to_hubspot", object_type="company"),
            FieldMapping("title", "description", "from_hubspot", object_type="company"),
            FieldMapping("custom_fields.industry", "industry", "from_hubspot", object_type="company"),
            FieldMapping("company", "company_name", "from_hubspot", object_type="company"),
        ],
        [{"name": "name", "type": "string"}, {"name": "domain", "type": "string"}],
    )
    messages = {p.index: p.message for p in problems}
    assert set(messages) == {1, 2, 4}
    assert "domain is the match key" in messages[1]
    assert "'title' does not exist" in messages[2]
    assert "'company' is already filled from HubSpot by mapping #1" in messages[4]  # `company` is `name`
    compiled = compile_company_mappings(
        [*MAPPINGS, FieldMapping("title", "description", object_type="company")]
    )
    assert [(m.column, m.mapping.coldcopy_field, m.mapping.direction) for m in compiled.mappings] == [
        ("domain", "domain", "to_hubspot"),
        ("name", "name", "to_hubspot"),
        ("coldcopy_industry", "custom_fields.industry", "bidirectional"),
    ]  # a lead field saved before companies were kept is left out
    assert [m.column for m in compile_company_mappings(None).mappings] == ["domain", "name"]


def hubspot_companies(client: HubSpotClient) -> dict[str, dict]:
    pages = client.list_pages("companies", ["domain", "name", "coldcopy_industry"])
    return {r["properties"]["domain"]: r["properties"] | {"id": r["id"]} for page, _ in pages for r in page}


def company_rows(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(companies).where(companies.c.workspace_id == workspace_id))
        return {r.domain: dict(r._mapping) for r in rows}


def edit_company(engine: sa.Engine, workspace_id: uuid.UUID, domain: str, **values) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(companies)
            .where(companies.c.workspace_id == workspace_id, companies.c.domain == domain)
            .values(**values)
        )


def queue_webhook(
    engine: sa.Engine, workspace_id: uuid.UUID, object_id: str, kind: str, payload: dict | None = None
) -> None:
    """A company event as the API's webhook endpoint stores it (an event id no other test uses)."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(webhook_events).values(
                portal_id=1,
                workspace_id=workspace_id,
                subscription_id=2,
                event_id=uuid.uuid4().int % 2**62,
                object_id=int(object_id),
                occurred_at=1,
                subscription_type=kind,
                payload=payload or {},
            )
        )


def company_writes(report) -> int:
    """Writes of the company sync on either side (the echo of its own writes is read, never written)."""
    keys = ("created", "updated", "pulled", "made", "associated", "unassociated", "errors")
    return sum(report.counts[f"companies_{k}"] for k in keys)


def associations(client: HubSpotClient, contact_id: str) -> set[str]:
    return set(client.batch_read_associations("contacts", "companies", [contact_id]).get(contact_id, []))


def test_companies_are_made_from_leads_pushed_with_their_mappings_and_edits_flow_both_ways(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    use_mappings(engine, workspace_id, *[m.__dict__ for m in MAPPINGS])
    add_leads(
        engine,
        workspace_id,
        [
            {"email": "a1@acme.com", "company": "acme ", "custom_fields": {"industry": "Tools"}},
            {"email": "a2@acme.com", "company": "acme ", "custom_fields": {"industry": "Tools"}},
        ],
    )
    first = sync(engine, hubspot_client, workspace_id)
    assert first.counts["companies_made"] == 1 and first.counts["companies_created"] == 1
    assert first.counts["companies_associated"] == 2
    acme = hubspot_companies(hubspot_client)["acme.com"]
    assert (acme["name"], acme["coldcopy_industry"]) == ("ACME", "Tools")
    row = company_rows(engine, workspace_id)["acme.com"]
    assert row["id"] == company_id(workspace_id, "acme.com") and row["name"] == "acme "
    with engine.connect() as conn:
        mine = leads.c.workspace_id == workspace_id
        assert set(conn.execute(sa.select(leads.c.company_id).where(mine)).scalars()) == {row["id"]}
    again = sync(engine, hubspot_client, workspace_id)
    assert company_writes(again) == 0 and again.counts["push"] == 0
    # ColdCopy edits the company: pushed, nothing else.
    edit_company(engine, workspace_id, "acme.com", custom_fields={"industry": "Hardware"})
    edited = sync(engine, hubspot_client, workspace_id)
    assert edited.counts["push"] == 0 and edited.counts["companies_updated"] == 1
    assert hubspot_companies(hubspot_client)["acme.com"]["coldcopy_industry"] == "Hardware"
    # HubSpot edits it: the bidirectional field comes into `companies`, the to_hubspot one stays there.
    hubspot_sandbox.admin.ui_edit(acme["id"], {"coldcopy_industry": "Robots", "name": "Acme HQ"}, "companies")
    pulled = sync(engine, hubspot_client, workspace_id)
    assert pulled.counts["companies_pulled"] == 1 and pulled.counts["companies_updated"] == 0
    row = company_rows(engine, workspace_id)["acme.com"]
    assert (row["custom_fields"], row["name"]) == ({"industry": "Robots"}, "acme ")
    assert hubspot_companies(hubspot_client)["acme.com"]["name"] == "Acme HQ"
    quiet = sync(engine, hubspot_client, workspace_id)  # the pull is not echoed back
    assert company_writes(quiet) == 0


@pytest.mark.parametrize(
    "policy, winner, value",
    [("coldcopy_wins", "coldcopy", "ColdCopy Co"), ("hubspot_wins", "hubspot", "HubSpot Co")],
)
def test_a_company_edited_on_both_sides_is_decided_by_the_policy_and_recorded(
    engine, workspace_id, hubspot_client, hubspot_sandbox, policy, winner, value
):
    set_config(engine, workspace_id, conflict_policy=policy)
    add_leads(engine, workspace_id, [{"email": "a@acme.com", "company": "Acme"}])
    sync(engine, hubspot_client, workspace_id)
    hubspot_sandbox.admin.ui_edit(
        hubspot_companies(hubspot_client)["acme.com"]["id"], {"name": "HubSpot Co"}, "companies"
    )
    edit_company(engine, workspace_id, "acme.com", name="ColdCopy Co")
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["companies_conflicts"] == 1
    assert company_rows(engine, workspace_id)["acme.com"]["name"] == value
    assert hubspot_companies(hubspot_client)["acme.com"]["name"] == value
    with engine.connect() as conn:
        conflict = conn.execute(
            sa.select(sync_conflicts).where(sync_conflicts.c.workspace_id == workspace_id)
        ).one()
    assert (conflict.object_type, conflict.field, conflict.winner) == ("company", "name", winner)
    assert (conflict.coldcopy_value, conflict.hubspot_value) == ("ColdCopy Co", "HubSpot Co")
    assert company_writes(sync(engine, hubspot_client, workspace_id)) == 0


@pytest.mark.parametrize("policy", ["unlink", "delete_lead", "keep"])
def test_a_company_archived_in_hubspot_is_handled_by_the_workspace_policy(
    engine, workspace_id, hubspot_client, policy
):
    set_config(engine, workspace_id, on_hubspot_archive=policy)
    add_leads(engine, workspace_id, [{"email": "a@acme.com", "company": "Acme"}])
    sync(engine, hubspot_client, workspace_id)
    acme = hubspot_companies(hubspot_client)["acme.com"]["id"]
    hubspot_client.archive("companies", acme)
    queue_webhook(engine, workspace_id, acme, "company.deletion")
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["companies_ended"] == 1
    row = company_rows(engine, workspace_id)["acme.com"]
    assert (row["deleted_at"] is not None) == (policy == "delete_lead")
    with engine.connect() as conn:
        state = conn.execute(
            sa.select(hubspot_sync_status.c.agreed).where(
                hubspot_sync_status.c.entity_type == "company",
                hubspot_sync_status.c.workspace_id == workspace_id,
            )
        ).scalar_one_or_none()
    assert (state is None) == (policy == "keep")
    edit_company(engine, workspace_id, "acme.com", name="Acme again")
    after = sync(engine, hubspot_client, workspace_id)
    # Only `keep` lets the company pair again: it is created anew; the others never re-create it.
    assert after.counts["companies_created"] == (1 if policy == "keep" else 0)
    assert ("acme.com" in hubspot_companies(hubspot_client)) == (policy == "keep")


def test_two_merged_companies_keep_the_primarys_pair_and_the_other_ends(engine, workspace_id, hubspot_client):
    add_leads(engine, workspace_id, [{"email": "a@acme.com"}, {"email": "b@beta.io"}])
    sync(engine, hubspot_client, workspace_id)
    found = hubspot_companies(hubspot_client)
    merged = hubspot_client.call(
        "POST",
        "/crm/v3/objects/companies/merge",
        json={"primaryObjectId": found["acme.com"]["id"], "objectIdToMerge": found["beta.io"]["id"]},
        endpoint="POST /crm/v3/objects/companies/merge",
    ).body
    queue_webhook(
        engine,
        workspace_id,
        merged["id"],
        "company.merge",
        {
            "primaryObjectId": int(found["acme.com"]["id"]),
            "mergedObjectIds": [int(found["beta.io"]["id"])],
            "newObjectId": int(merged["id"]),
        },
    )
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["companies_ended"] == 1 and report.counts["companies_created"] == 0
    with engine.connect() as conn:
        pairs = dict(
            conn.execute(
                sa.select(hubspot_sync_status.c.entity_id, hubspot_sync_status.c.agreed).where(
                    hubspot_sync_status.c.entity_type == "company",
                    hubspot_sync_status.c.workspace_id == workspace_id,
                )
            ).all()
        )
    assert "_tombstone" not in pairs[company_id(workspace_id, "acme.com")]
    assert pairs[company_id(workspace_id, "beta.io")]["_tombstone"] == "merged"
    edit_company(engine, workspace_id, "beta.io", name="Beta again")
    assert sync(engine, hubspot_client, workspace_id).counts["companies_created"] == 0
    assert list(hubspot_companies(hubspot_client)) == ["acme.com"]


def test_a_lead_moving_to_another_domain_moves_its_contact_to_that_company(
    engine, workspace_id, hubspot_client
):
    add_leads(engine, workspace_id, [{"email": "a@acme.com"}, {"email": "b@acme.com"}])
    sync(engine, hubspot_client, workspace_id)
    with engine.begin() as conn:
        conn.execute(sa.update(leads).where(leads.c.email == "b@acme.com").values(website="https://beta.io"))
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["companies_made"] == 1 and report.counts["companies_created"] == 1
    assert report.counts["companies_associated"] == 1 and report.counts["companies_unassociated"] == 1
    found, people = hubspot_companies(hubspot_client), contacts(hubspot_client)
    assert associations(hubspot_client, people["b@acme.com"]["id"]) == {found["beta.io"]["id"]}
    assert associations(hubspot_client, people["a@acme.com"]["id"]) == {found["acme.com"]["id"]}
    with engine.connect() as conn:
        moved = conn.execute(
            sa.select(leads.c.company_id).where(
                leads.c.workspace_id == workspace_id, leads.c.email == "b@acme.com"
            )
        ).scalar_one()
    assert moved == company_id(workspace_id, "beta.io")
    quiet = sync(engine, hubspot_client, workspace_id)
    assert quiet.counts["companies_associated"] == 0 and company_writes(quiet) == 0
