"""Properties and groups: defaults present, custom properties with type/fieldType validation, options for
enumerations, unique properties (at most 10, fixed at creation, enforced on writes), groups."""

from __future__ import annotations

import httpx

PROPERTIES = "/crm/v3/properties/contacts"


def _property(name: str, **overrides: object) -> dict:
    return {
        "name": name,
        "label": name.title(),
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
        **overrides,
    }


def test_default_properties_and_groups_are_listed(api: httpx.Client) -> None:
    names = {p["name"] for p in api.get(PROPERTIES).json()["results"]}
    assert {"email", "firstname", "lastname", "lifecyclestage", "hs_object_id", "lastmodifieddate"} <= names
    companies = {p["name"] for p in api.get("/crm/v3/properties/companies").json()["results"]}
    assert {"domain", "name", "hs_lastmodifieddate"} <= companies
    groups = [g["name"] for g in api.get(f"{PROPERTIES}/groups").json()["results"]]
    assert groups == ["contactinformation"]
    email = api.get(f"{PROPERTIES}/email").json()
    assert email["type"] == "string" and email["hubspotDefined"] is True


def test_type_and_field_type_must_match(api: httpx.Client) -> None:
    assert api.post(PROPERTIES, json=_property("score", type="number", fieldType="text")).status_code == 400
    assert api.post(PROPERTIES, json=_property("score", type="number", fieldType="number")).status_code == 201
    assert api.post(PROPERTIES, json=_property("when", type="datetime", fieldType="date")).status_code == 201
    assert api.post(PROPERTIES, json=_property("x", type="json", fieldType="text")).status_code == 400
    assert (
        api.post(PROPERTIES, json=_property("tier", type="enumeration", fieldType="select")).status_code
        == 400
    )
    missing = api.post(PROPERTIES, json={"name": "y", "label": "Y"})
    assert missing.status_code == 400 and "type" in missing.json()["message"]


def test_a_property_that_exists_is_a_409(api: httpx.Client) -> None:
    assert api.post(PROPERTIES, json=_property("source_id")).status_code == 201
    assert api.post(PROPERTIES, json=_property("source_id")).status_code == 409
    assert api.post(PROPERTIES, json=_property("email")).status_code == 409


def test_custom_values_are_validated_by_type(api: httpx.Client) -> None:
    options = [{"label": "Hot", "value": "hot"}, {"label": "Cold", "value": "cold"}]
    api.post(PROPERTIES, json=_property("tier", type="enumeration", fieldType="checkbox", options=options))
    api.post(PROPERTIES, json=_property("score", type="number", fieldType="number"))
    api.post(PROPERTIES, json=_property("signup", type="date", fieldType="date"))
    created = api.post(
        "/crm/v3/objects/contacts",
        json={"properties": {"email": "t@x.com", "tier": "hot", "score": "12.5", "signup": "1700006400000"}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["signup"] == "2023-11-15"
    contact_id = created.json()["id"]
    appended = api.patch(f"/crm/v3/objects/contacts/{contact_id}", json={"properties": {"tier": ";cold"}})
    assert appended.json()["properties"]["tier"] == "hot;cold"
    bad = api.patch(
        f"/crm/v3/objects/contacts/{contact_id}",
        json={"properties": {"score": "twelve", "signup": "1521225089103"}},
    )
    codes = {e["code"]: e["message"] for e in bad.json()["errors"]}
    assert (
        codes["INVALID_INTEGER"]
        and codes["INVALID_DATE"] == "1521225089103 is at 18:31:29.103 UTC, not midnight!"
    )
    cleared = api.patch(f"/crm/v3/objects/contacts/{contact_id}", json={"properties": {"score": ""}})
    assert "score" not in cleared.json()["properties"]


def test_unique_properties_are_enforced_and_fixed(api: httpx.Client) -> None:
    assert api.post(PROPERTIES, json=_property("lead_key", hasUniqueValue=True)).status_code == 201
    first = api.post("/crm/v3/objects/contacts", json={"properties": {"lead_key": "K1"}}).json()["id"]
    duplicate = api.post("/crm/v3/objects/contacts", json={"properties": {"lead_key": "K1"}})
    assert duplicate.status_code == 409 and duplicate.json()["message"].endswith(f"Existing ID: {first}")
    by_key = api.get("/crm/v3/objects/contacts/K1", params={"idProperty": "lead_key"})
    assert by_key.json()["id"] == first
    assert api.patch(f"{PROPERTIES}/lead_key", json={"hasUniqueValue": False}).status_code == 400
    for i in range(9):
        api.post(PROPERTIES, json=_property(f"unique_{i}", hasUniqueValue=True))
    assert api.post(PROPERTIES, json=_property("unique_10", hasUniqueValue=True)).status_code == 400


def test_update_archive_and_batch(api: httpx.Client) -> None:
    api.post(PROPERTIES, json=_property("note"))
    assert api.patch(f"{PROPERTIES}/note", json={"label": "A note"}).json()["label"] == "A note"
    assert api.delete(f"{PROPERTIES}/note").status_code == 204
    assert api.get(f"{PROPERTIES}/note").status_code == 404
    assert api.get(f"{PROPERTIES}/note", params={"archived": "true"}).json()["archived"] is True
    written = api.post("/crm/v3/objects/contacts", json={"properties": {"note": "x"}})
    assert written.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert api.delete(f"{PROPERTIES}/email").status_code == 400  # HubSpot's own properties stay
    batch = api.post(f"{PROPERTIES}/batch/create", json={"inputs": [_property("b1"), _property("b2")]})
    assert batch.status_code == 201 and len(batch.json()["results"]) == 2
    read = api.post(
        f"{PROPERTIES}/batch/read",
        json={
            "inputs": [{"name": "b1"}, {"name": "zz"}],
            "archived": False,
            "dataSensitivity": "non_sensitive",
        },
    )
    assert read.status_code == 207


def test_groups_crud(api: httpx.Client) -> None:
    created = api.post(f"{PROPERTIES}/groups", json={"name": "coldcopy", "label": "ColdCopy"})
    assert created.status_code == 201
    assert api.post(PROPERTIES, json=_property("cc_id", groupName="coldcopy")).status_code == 201
    assert api.post(PROPERTIES, json=_property("cc_x", groupName="nope")).status_code == 400
    assert api.patch(f"{PROPERTIES}/groups/coldcopy", json={"label": "CC"}).json()["label"] == "CC"
    assert api.delete(f"{PROPERTIES}/groups/coldcopy").status_code == 204
    assert api.get(f"{PROPERTIES}/groups/coldcopy").status_code == 404
