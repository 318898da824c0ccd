"""CRM object endpoints over HTTP: create, read (by id and idProperty), update, archive, list paging,
the 409 and 404 bodies, and the v3 / date-versioned path forms. Batch and search have their own files."""

from __future__ import annotations

import httpx

from hubspot_pipeline.sandbox.testing import SandboxHandle


def _create(api: httpx.Client, email: str, **properties: str) -> dict:
    response = api.post("/crm/v3/objects/contacts", json={"properties": {"email": email, **properties}})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_created_contact_has_string_ids_iso_timestamps_and_default_properties(api: httpx.Client) -> None:
    created = _create(api, "Ada@Example.com", firstname="Ada")
    assert created["id"].isdigit()
    assert created["properties"]["email"] == "ada@example.com"  # HubSpot stores emails lowercased
    assert created["properties"]["hs_object_id"] == created["id"]
    assert created["createdAt"].endswith("Z") and created["archived"] is False
    read = api.get(f"/crm/v3/objects/contacts/{created['id']}").json()
    assert set(read["properties"]) == {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate"}


def test_duplicate_email_is_a_409_naming_the_existing_id(api: httpx.Client) -> None:
    first = _create(api, "dup@example.com")
    response = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "DUP@example.com"}})
    assert response.status_code == 409
    body = response.json()
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"
    assert body["category"] == "CONFLICT" and body["status"] == "error" and body["correlationId"]


def test_unknown_id_is_hubspots_404_with_two_spaces(api: httpx.Client) -> None:
    response = api.get("/crm/v3/objects/contacts/987654321")
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "Object not found.  objectId are usually numeric."
    assert body["category"] == "OBJECT_NOT_FOUND" and body["context"] == {"id": ["987654321"]}


def test_get_and_patch_by_email_id_property(api: httpx.Client) -> None:
    created = _create(api, "grace@example.com")
    by_email = api.get("/crm/v3/objects/contacts/grace@example.com", params={"idProperty": "email"})
    assert by_email.json()["id"] == created["id"]
    patched = api.patch(
        "/crm/v3/objects/contacts/grace@example.com",
        params={"idProperty": "email"},
        json={"properties": {"lastname": "Hopper"}},
    )
    assert patched.status_code == 200 and patched.json()["properties"]["lastname"] == "Hopper"


def test_patch_with_no_properties_and_unknown_property_are_400(api: httpx.Client) -> None:
    created = _create(api, "x@example.com")
    empty = api.patch(f"/crm/v3/objects/contacts/{created['id']}", json={"properties": {}})
    assert empty.status_code == 400
    assert empty.json()["message"] == "No properties found to update, please provide at least one."
    unknown = api.patch(
        f"/crm/v3/objects/contacts/{created['id']}", json={"properties": {"testproperty": "1"}}
    )
    body = unknown.json()
    assert unknown.status_code == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith('Property values were not valid: [{"isValid":false')
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert body["errors"][0]["context"] == {"propertyName": ["testproperty"]}


def test_invalid_email_option_and_date_values_use_hubspots_codes(api: httpx.Client) -> None:
    bad_email = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "jane@example"}})
    assert bad_email.json()["errors"][0]["code"] == "INVALID_EMAIL"
    assert bad_email.json()["errors"][0]["message"] == "Email address jane@example is invalid"
    bad_option = api.post("/crm/v3/objects/contacts", json={"properties": {"lifecyclestage": "Lead"}})
    assert bad_option.json()["errors"][0]["code"] == "INVALID_OPTION"


def test_archive_hides_a_record_except_with_archived_true(api: httpx.Client) -> None:
    created = _create(api, "gone@example.com")
    assert api.delete(f"/crm/v3/objects/contacts/{created['id']}").status_code == 204
    assert api.get(f"/crm/v3/objects/contacts/{created['id']}").status_code == 404
    archived = api.get(f"/crm/v3/objects/contacts/{created['id']}", params={"archived": "true"}).json()
    assert archived["archived"] is True and "archivedAt" in archived
    listed = api.get("/crm/v3/objects/contacts", params={"archived": "true"}).json()
    assert [item["id"] for item in listed["results"]] == [created["id"]]
    # The email is free again once archived.
    assert (
        api.post("/crm/v3/objects/contacts", json={"properties": {"email": "gone@example.com"}}).status_code
        == 201
    )


def test_list_pages_with_an_after_cursor_until_no_paging(api: httpx.Client) -> None:
    ids = {_create(api, f"p{i}@example.com")["id"] for i in range(25)}
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 10, **({"after": after} if after else {})}
        body = api.get("/crm/v3/objects/contacts", params=params).json()
        seen += [item["id"] for item in body["results"]]
        pages += 1
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert pages == 3 and set(seen) == ids and len(seen) == 25


def test_dated_version_paths_and_type_ids_reach_the_same_records(api: httpx.Client) -> None:
    created = _create(api, "v@example.com")
    for path in ("/crm/objects/2026-03/contacts/", "/crm/objects/2026-09/0-1/", "/crm/v3/objects/contact/"):
        assert api.get(path + created["id"]).json()["id"] == created["id"], path


def test_companies_emails_and_notes_have_their_own_rules(api: httpx.Client) -> None:
    company = api.post(
        "/crm/v3/objects/companies", json={"properties": {"name": "Acme", "domain": "acme.com"}}
    )
    assert company.status_code == 201 and "hs_lastmodifieddate" in company.json()["properties"]
    # Company domain is not unique: a second company with it is fine.
    assert (
        api.post("/crm/v3/objects/companies", json={"properties": {"domain": "acme.com"}}).status_code == 201
    )
    no_timestamp = api.post("/crm/v3/objects/notes", json={"properties": {"hs_note_body": "hi"}})
    assert no_timestamp.status_code == 400
    assert no_timestamp.json()["message"] == "Error creating NOTE. Some required properties were not set."
    note = api.post("/crm/v3/objects/notes", json={"properties": {"hs_note_body": "hi", "hs_timestamp": "0"}})
    assert note.status_code == 201 and note.json()["properties"]["hs_timestamp"] == "1970-01-01T00:00:00.000Z"


def test_calls_are_counted_by_endpoint_and_status(api: httpx.Client, hubspot_sandbox: SandboxHandle) -> None:
    _create(api, "count@example.com")
    api.post("/crm/v3/objects/contacts", json={"properties": {"email": "count@example.com"}})
    api.get("/crm/objects/2026-03/contacts/1")
    admin = hubspot_sandbox.admin
    assert admin.calls("POST /crm/v3/objects/contacts", 201) == 1
    assert admin.calls("POST /crm/v3/objects/contacts", 409) == 1
    assert admin.calls("GET /crm/v3/objects/contacts/{objectId}", 404) == 1
    assert admin.counters()["total"] == 3


def test_a_garbage_paging_cursor_is_400_not_a_restart(api: httpx.Client) -> None:
    # Regression guard: treating it as "from the start" would loop a client forever.
    response = api.get("/crm/v3/objects/contacts", params={"after": "NTI1Cg=="})
    assert response.status_code == 400 and response.json()["category"] == "VALIDATION_ERROR"


def test_a_request_uri_past_the_limit_is_414(api: httpx.Client) -> None:
    names = ",".join(f"custom_property_number_{i}" for i in range(400))  # about 11,000 characters
    response = api.get("/crm/v3/objects/contacts", params={"properties": names})
    assert response.status_code == 414
    assert api.get("/crm/v3/objects/contacts", params={"properties": names[:4000]}).status_code == 200
