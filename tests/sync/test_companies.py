"""Companies: which domain a lead's company is, the values its mapped properties take, which leads' edits
touch a company, which company mappings are refused (pure); and a sync against PostgreSQL and the sandbox
that pushes company mappings with their transforms, writes nothing on a second run and follows a ColdCopy
edit of a field only a company mapping reads. HubSpot-side company edits are not pulled (README)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline.db.tables import leads
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.companies import leads_with_company_changes
from hubspot_pipeline.sync.core.companies import company_values
from hubspot_pipeline.sync.core.mapping import (
    FieldMapping,
    compile_company_mappings,
    validate_mapping_set,
)
from tests.sync.helpers import lead_rows
from tests.sync.test_engine_regressions import use_mappings
from tests.sync.test_engine_sandbox import add_leads, sync

MAPPINGS = [
    FieldMapping("company", "name", "to_hubspot", "trim | uppercase", object_type="company"),
    FieldMapping("custom_fields.industry", "coldcopy_industry", "to_hubspot", "trim", object_type="company"),
]


def test_a_company_takes_the_value_most_of_its_leads_give_through_the_mapping_transform() -> None:
    raw = lead_rows(
        {
            "L1": {"email": "a@acme.com", "company": " Acme ", "custom_fields": {"industry": "Tools"}},
            "L2": {"email": "b@acme.com", "company": "acme", "website": "https://www.acme.com"},
            "L3": {"email": "c@acme.com", "company": "Acme Corp"},
            "L4": {"email": "solo@gmail.com", "company": "Solo"},
            "L5": {"email": "d@initech.io"},
        }
    )
    wanted = company_values(raw, compile_company_mappings(MAPPINGS))
    assert wanted == {
        "acme.com": {"domain": "acme.com", "name": "ACME", "coldcopy_industry": "Tools"},
        "initech.io": {"domain": "initech.io", "name": "initech.io", "coldcopy_industry": ""},
    }  # free mail has no company; a company no lead names is named by its domain


def test_the_default_company_mapping_names_the_company_by_its_leads_company() -> None:
    raw = lead_rows({"L1": {"email": "a@acme.com", "company": "Acme Inc"}})
    assert company_values(raw, compile_company_mappings(None)) == {
        "acme.com": {"domain": "acme.com", "name": "Acme Inc"}
    }


def test_only_edits_of_fields_a_company_mapping_reads_touch_a_company() -> None:
    times = pd.DataFrame(
        {
            "title": [pd.Timestamp("2026-01-01", tz="UTC"), pd.NaT],
            "custom_fields.industry": [pd.NaT, pd.Timestamp("2026-01-01", tz="UTC")],
        },
        index=["L1", "L2"],
    )
    assert leads_with_company_changes(times, compile_company_mappings(MAPPINGS)) == {"L2"}
    assert leads_with_company_changes(pd.DataFrame(), compile_company_mappings(MAPPINGS)) == set()


def test_company_mappings_that_would_pull_or_map_the_domain_are_refused_with_the_reason() -> None:
    problems = validate_mapping_set(
        [
            FieldMapping("company", "name", "bidirectional", object_type="company"),
            FieldMapping("website", "domain", "to_hubspot", object_type="company"),
            MAPPINGS[1],
        ],
        [{"name": "name", "type": "string"}, {"name": "domain", "type": "string"}],
    )
    messages = {p.index: p.message for p in problems}
    assert set(messages) == {0, 1}
    assert "HubSpot-side company edits are not brought into ColdCopy" in messages[0]
    assert "domain is the match key" in messages[1]


def companies(client: HubSpotClient) -> dict[str, dict]:
    pages = client.list_pages("companies", ["domain", "name", "coldcopy_industry"])
    return {r["properties"]["domain"]: r["properties"] for page, _ in pages for r in page}


def test_company_mappings_are_pushed_and_a_coldcopy_edit_only_they_read_updates_the_company(
    engine, workspace_id, hubspot_client
):
    use_mappings(
        engine,
        workspace_id,
        *[
            {
                "coldcopy_field": m.coldcopy_field,
                "hubspot_property": m.hubspot_property,
                "direction": m.direction,
                "transform_function": m.transform_function,
                "object_type": m.object_type,
            }
            for m in MAPPINGS
        ],
    )
    add_leads(
        engine,
        workspace_id,
        [
            {"email": "a1@acme.com", "company": "acme ", "custom_fields": {"industry": "Tools"}},
            {"email": "a2@acme.com", "company": "Acme", "custom_fields": {"industry": "Tools"}},
        ],
    )
    first = sync(engine, hubspot_client, workspace_id)
    assert first.counts["companies_created"] == 1 and first.counts["companies_associated"] == 2
    acme = companies(hubspot_client)["acme.com"]
    assert (acme["name"], acme["coldcopy_industry"]) == ("ACME", "Tools")
    again = sync(engine, hubspot_client, workspace_id)
    assert again.counts["companies_companies"] == 0 and again.counts["push"] == 0
    with engine.begin() as conn:  # an edit no contact mapping reads: only the company changes
        conn.execute(
            sa.update(leads)
            .where(leads.c.workspace_id == workspace_id)
            .values(custom_fields={"industry": "Hardware"})
        )
    edited = sync(engine, hubspot_client, workspace_id)
    assert edited.counts["push"] == 0 and edited.counts["companies_updated"] == 1
    assert edited.counts["companies_associated"] == 0 and edited.counts["companies_created"] == 0
    assert companies(hubspot_client)["acme.com"]["coldcopy_industry"] == "Hardware"
    quiet = sync(engine, hubspot_client, workspace_id)
    assert quiet.counts["companies_updated"] == 0 and quiet.counts["companies_companies"] == 0


def test_a_company_mapping_saved_before_it_was_refused_is_pushed_only() -> None:
    saved = [
        FieldMapping("company", "name", "bidirectional", object_type="company"),
        FieldMapping("title", "description", "from_hubspot", object_type="company"),
    ]
    compiled = compile_company_mappings(saved)
    assert [(m.column, m.mapping.direction) for m in compiled.mappings] == [("name", "to_hubspot")]
    assert validate_mapping_set([m.mapping for m in compiled.mappings], [{"name": "name"}]) == []
