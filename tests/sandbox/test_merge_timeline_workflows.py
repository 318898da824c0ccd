"""Contact merge (new id, hs_merged_object_ids, old ids gone, associations kept), timeline templates and
events (developer credentials, OAuth-only events, event id as idempotency key), workflows (v4 listing,
v2 enrollment 204s), and GDPR delete."""

from __future__ import annotations

import httpx
import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle

CONTACTS = "/crm/v3/objects/contacts"


def test_merge_mints_a_new_id_and_lists_merged_ids(api: httpx.Client) -> None:
    primary = api.post(CONTACTS, json={"properties": {"email": "p@x.com", "firstname": "P"}}).json()["id"]
    other = api.post(CONTACTS, json={"properties": {"email": "o@x.com", "lastname": "O"}}).json()["id"]
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "C"}}).json()["id"]
    api.put(f"/crm/v4/objects/contacts/{other}/associations/default/companies/{company}")
    merged = api.post(f"{CONTACTS}/merge", json={"primaryObjectId": primary, "objectIdToMerge": other})
    assert merged.status_code == 200
    body = merged.json()
    survivor = body["id"]
    assert survivor not in (primary, other)
    assert set(body["properties"]["hs_merged_object_ids"].split(";")) == {primary, other}
    assert body["properties"]["email"] == "p@x.com" and body["properties"]["lastname"] == "O"
    assert body["properties"]["hs_additional_emails"] == "o@x.com"
    assert (
        api.get(f"{CONTACTS}/{primary}").status_code == 404
        and api.get(f"{CONTACTS}/{other}").status_code == 404
    )
    assert api.get(f"{CONTACTS}/p@x.com", params={"idProperty": "email"}).json()["id"] == survivor
    # The merged-away email is now an additional email of the survivor, and still finds it.
    assert api.get(f"{CONTACTS}/o@x.com", params={"idProperty": "email"}).json()["id"] == survivor
    again = api.post(CONTACTS, json={"properties": {"email": "O@x.com"}})
    assert (
        again.status_code == 409
        and again.json()["message"] == f"Contact already exists. Existing ID: {survivor}"
    )
    upsert = api.post(
        f"{CONTACTS}/batch/upsert",
        json={"inputs": [{"id": "o@x.com", "idProperty": "email", "properties": {"jobtitle": "CTO"}}]},
    ).json()["results"][0]
    assert upsert["id"] == survivor and upsert["new"] is False
    linked = api.get(f"/crm/v4/objects/contacts/{survivor}/associations/companies").json()["results"]
    assert [r["toObjectId"] for r in linked] == [company]


def test_merge_keeps_the_primary_id_with_the_preservation_beta(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    hubspot_sandbox.admin.configure(merge_keeps_primary_id=True)
    primary = api.post(CONTACTS, json={"properties": {"email": "k1@x.com"}}).json()["id"]
    other = api.post(CONTACTS, json={"properties": {"email": "k2@x.com"}}).json()["id"]
    merged = api.post(f"{CONTACTS}/merge", json={"primaryObjectId": primary, "objectIdToMerge": other}).json()
    assert merged["id"] == primary and merged["properties"]["hs_merged_object_ids"] == other
    assert (
        api.post(
            f"{CONTACTS}/merge", json={"primaryObjectId": primary, "objectIdToMerge": primary}
        ).status_code
        == 400
    )


def test_gdpr_delete_removes_the_contact_for_good(api: httpx.Client) -> None:
    contact = api.post(CONTACTS, json={"properties": {"email": "gdpr@x.com"}}).json()["id"]
    response = api.post(f"{CONTACTS}/gdpr-delete", json={"objectId": "gdpr@x.com", "idProperty": "email"})
    assert response.status_code == 204
    assert api.get(f"{CONTACTS}/{contact}", params={"archived": "true"}).status_code == 404


def test_gdpr_delete_answers_as_hubspot_does_to_bad_and_unknown_input(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    gdpr = f"{CONTACTS}/gdpr-delete"
    for body in ({}, {"objectId": ""}, {"objectId": None}, {"objectId": {"id": 1}}):
        refused = api.post(gdpr, json=body)
        assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR", body
        assert "objectId" in refused.json()["message"]
    assert api.post(gdpr, json={"objectId": "1", "idProperty": "firstname"}).status_code == 400  # not unique
    unknown_id = api.post(gdpr, json={"objectId": "987654321"})
    assert unknown_id.status_code == 404 and unknown_id.json()["category"] == "OBJECT_NOT_FOUND"
    # An address no contact holds: 204, and blocklisted.
    assert api.post(gdpr, json={"objectId": "Nobody@X.com", "idProperty": "email"}).status_code == 204
    recorded = hubspot_sandbox.admin.gdpr_deletions()
    assert recorded["blocklist"] == ["nobody@x.com"]
    assert [d["deletedId"] for d in recorded["results"]] == [None, None]


@pytest.fixture
def template_id(hubspot_sandbox: SandboxHandle) -> str:
    response = httpx.post(
        f"{hubspot_sandbox.base_url}/integrators/timeline/v3/{hubspot_sandbox.app_id}/event-templates",
        params={"hapikey": hubspot_sandbox.developer_api_key},
        json={
            "name": "Email opened",
            "objectType": "contacts",
            "headerTemplate": "Opened {{subject}}",
            "tokens": [
                {"name": "subject", "label": "Subject", "type": "string"},
                {"name": "score", "label": "Score", "type": "number", "objectPropertyName": "company"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_timeline_events_need_an_oauth_token_and_an_id_makes_resends_duplicates(
    hubspot_sandbox: SandboxHandle, template_id: str
) -> None:
    base = f"{hubspot_sandbox.base_url}/integrators/timeline/v3/events"
    event = {
        "eventTemplateId": template_id,
        "id": "evt-1",
        "email": "t@x.com",
        "tokens": {"subject": "Hello", "score": "7"},
        "timestamp": "2024-05-01T10:00:00Z",
    }
    private = httpx.post(base, json=event, headers=hubspot_sandbox.auth_headers())
    assert private.status_code == 403  # private apps cannot use timeline events
    oauth = hubspot_sandbox.auth_headers(hubspot_sandbox.admin.issue_oauth_token()["access_token"])
    created = httpx.post(base, json=event, headers=oauth)
    assert created.status_code == 201, created.text
    assert created.json()["objectId"] and created.json()["timestamp"] == "2024-05-01T10:00:00.000Z"
    again = httpx.post(base, json=event, headers=oauth)
    assert again.status_code == 409 and again.json()["category"] == "CONFLICT"
    batch = httpx.post(
        f"{base}/batch/create",
        headers=oauth,
        json={"inputs": [event, {**event, "id": "evt-2"}, {**event, "id": "evt-3", "tokens": {"nope": "x"}}]},
    )
    assert batch.status_code == 207
    assert [r["id"] for r in batch.json()["results"]] == ["evt-2"]
    assert {e["category"] for e in batch.json()["errors"]} == {"CONFLICT", "VALIDATION_ERROR"}
    read = httpx.get(f"{base}/{template_id}/evt-1", headers=oauth)
    assert read.json()["tokens"] == {"subject": "Hello", "score": "7"}
    contact = httpx.get(
        f"{hubspot_sandbox.base_url}{CONTACTS}/t@x.com",
        params={"idProperty": "email", "properties": "company"},
        headers=oauth,
    ).json()
    assert contact["properties"]["company"] == "7"  # stamped through the token's objectPropertyName


def test_templates_need_developer_credentials(hubspot_sandbox: SandboxHandle, template_id: str) -> None:
    url = f"{hubspot_sandbox.base_url}/integrators/timeline/v3/{hubspot_sandbox.app_id}/event-templates"
    assert httpx.get(url, headers=hubspot_sandbox.auth_headers()).status_code == 403
    listed = httpx.get(url, params={"hapikey": hubspot_sandbox.developer_api_key}).json()["results"]
    assert [t["id"] for t in listed] == [template_id]
    token = httpx.post(
        f"{url}/{template_id}/tokens",
        params={"hapikey": hubspot_sandbox.developer_api_key},
        json={"name": "opened_at", "label": "Opened at", "type": "date"},
    )
    assert token.status_code == 200
    assert (
        httpx.delete(
            f"{url}/{template_id}", params={"hapikey": hubspot_sandbox.developer_api_key}
        ).status_code
        == 204
    )


def test_flows_are_listed_and_contacts_enrolled_with_204s(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    flow = hubspot_sandbox.admin.add_flow("Hot leads", workflow_id=5150)
    flows = api.get("/automation/v4/flows").json()["results"]
    assert [(f["id"], f["name"], f["objectTypeId"]) for f in flows] == [(flow["id"], "Hot leads", "0-1")]
    assert api.get(f"/automation/v4/flows/{flow['id']}").json()["type"] == "CONTACT_FLOW"
    mapped = api.post(
        "/automation/v4/workflow-id-mappings/batch/read",
        json={"inputs": [{"type": "FLOW_ID", "flowId": flow["id"]}]},
    ).json()["results"]
    assert mapped == [{"flowId": int(flow["id"]), "workflowId": 5150}]
    api.post(CONTACTS, json={"properties": {"email": "hot@x.com"}})
    enroll = api.post("/automation/v2/workflows/5150/enrollments/contacts/hot%40x.com")
    assert enroll.status_code == 204 and enroll.content == b""
    assert [e["email"] for e in hubspot_sandbox.admin.enrollments()] == ["hot@x.com"]
    assert api.delete("/automation/v2/workflows/5150/enrollments/contacts/hot@x.com").status_code == 204
    assert hubspot_sandbox.admin.enrollments()[0]["active"] is False
    assert api.post("/automation/v2/workflows/5150/enrollments/contacts/nobody@x.com").status_code == 404
    assert api.post("/automation/v2/workflows/1/enrollments/contacts/hot@x.com").status_code == 404


def test_templates_render_tokens_and_if_blocks(hubspot_sandbox: SandboxHandle) -> None:
    templates = f"{hubspot_sandbox.base_url}/integrators/timeline/v3/{hubspot_sandbox.app_id}/event-templates"
    template = httpx.post(
        templates,
        params={"hapikey": hubspot_sandbox.developer_api_key},
        json={
            "name": "Email clicked",
            "objectType": "contacts",
            "headerTemplate": "Clicked {{#if subject}}“{{subject}}”{{else}}an email{{/if}}",
            "detailTemplate": "{{#if url}}Link: {{url}}{{#if step}} (step {{step}}){{/if}}{{/if}}",
            "tokens": [
                {"name": name, "label": name, "type": "string"} for name in ("subject", "url", "step")
            ],
        },
    ).json()["id"]
    oauth = hubspot_sandbox.auth_headers(hubspot_sandbox.admin.issue_oauth_token()["access_token"])
    base = f"{hubspot_sandbox.base_url}/integrators/timeline/v3/events"
    for event_id, tokens in (("full", {"subject": "Hi", "url": "https://x.io", "step": "2"}), ("bare", {})):
        event = {"eventTemplateId": template, "id": event_id, "email": "r@x.com", "tokens": tokens}
        assert httpx.post(base, json=event, headers=oauth).status_code == 201
    render = f"{base}/{template}/{{}}/render"
    assert httpx.get(render.format("full"), headers=oauth).text == "Clicked “Hi”"
    assert (
        httpx.get(render.format("full"), params={"detail": "true"}, headers=oauth).text
        == "Link: https://x.io (step 2)"
    )
    assert httpx.get(render.format("bare"), headers=oauth).text == "Clicked an email"
    assert httpx.get(render.format("bare"), params={"detail": "true"}, headers=oauth).text == ""
    listed = hubspot_sandbox.admin.timeline_events()
    assert sorted(e["id"] for e in listed) == ["bare", "full"]


def test_a_repeated_timeline_event_id_overwrites_when_configured_so(
    hubspot_sandbox: SandboxHandle, template_id: str
) -> None:
    hubspot_sandbox.admin.configure(timeline_repeat="overwrite")
    oauth = hubspot_sandbox.auth_headers(hubspot_sandbox.admin.issue_oauth_token()["access_token"])
    base = f"{hubspot_sandbox.base_url}/integrators/timeline/v3/events"
    event = {
        "eventTemplateId": template_id,
        "id": "evt-9",
        "email": "t@x.com",
        "tokens": {"subject": "First"},
    }
    first = httpx.post(base, json=event, headers=oauth).json()
    again = httpx.post(base, json={**event, "tokens": {"subject": "Second"}}, headers=oauth)
    assert again.status_code == 201 and again.json()["createdAt"] == first["createdAt"]
    assert [(e["id"], e["tokens"]["subject"]) for e in hubspot_sandbox.admin.timeline_events()] == [
        ("evt-9", "Second")
    ]
