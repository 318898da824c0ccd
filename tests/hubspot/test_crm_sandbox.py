"""The rest of the client's surface against the sandbox over HTTP: list scans, properties and groups,
associations v4, email engagements written idempotently on a unique key, notes, timeline events (OAuth
only, as in HubSpot) and workflow enrollment. Batch, search, budget and OAuth have files of their own."""

from __future__ import annotations

import time

import httpx
import pytest

from hubspot_pipeline.hubspot import HubSpotAuthError, HubSpotClient, PrivateAppToken
from hubspot_pipeline.hubspot.auth import PrivateAppToken as StaticToken
from hubspot_pipeline.sandbox.testing import SandboxHandle


def _client(sandbox: SandboxHandle, token: str | None = None) -> HubSpotClient:
    return HubSpotClient(sandbox.base_url, PrivateAppToken(token or sandbox.private_app_token))


def test_a_list_scan_pages_through_every_contact_once(hubspot_sandbox: SandboxHandle) -> None:
    with _client(hubspot_sandbox) as client:
        client.batch_upsert("contacts", [{"email": f"l{i}@example.com"} for i in range(250)])
        pages = list(client.list_pages("contacts", ["email"]))
    emails = [record["properties"]["email"] for page, _ in pages for record in page]
    assert sorted(emails) == sorted(f"l{i}@example.com" for i in range(250))
    assert len(pages) == 3 and pages[-1][1] is None


def test_properties_and_groups_are_created_once(hubspot_sandbox: SandboxHandle) -> None:
    definition = {
        "name": "coldcopy_score",
        "label": "ColdCopy score",
        "type": "number",
        "fieldType": "number",
        "groupName": "coldcopy",
    }
    with _client(hubspot_sandbox) as client:
        client.create_property_group("contacts", "coldcopy", "ColdCopy")
        assert client.create_property_group("contacts", "coldcopy", "ColdCopy")["name"] == "coldcopy"
        created = client.create_property("contacts", definition)
        again = client.create_property("contacts", definition)
        assert created["name"] == again["name"] == "coldcopy_score"
        assert "coldcopy_score" in {p["name"] for p in client.list_properties("contacts")}
        assert "coldcopy" in {g["name"] for g in client.list_property_groups("contacts")}
        assert client.get_property("contacts", "no_such_property") is None


def test_contacts_are_associated_with_companies_and_read_back(hubspot_sandbox: SandboxHandle) -> None:
    with _client(hubspot_sandbox) as client:
        contacts = client.batch_upsert("contacts", [{"email": "a@acme.test"}, {"email": "b@acme.test"}])
        company = client.create("companies", {"domain": "acme.test", "name": "Acme"})
        ids = [contacts.by_key["a@acme.test"]["id"], contacts.by_key["b@acme.test"]["id"]]
        client.batch_associate_default("contacts", "companies", [(i, company["id"]) for i in ids])
        links = client.batch_read_associations("contacts", "companies", ids)
        assert {key: sorted(set(value)) for key, value in links.items()} == {i: [company["id"]] for i in ids}
        client.batch_archive_associations("contacts", "companies", [(ids[0], company["id"])])
        assert client.batch_read_associations("contacts", "companies", [ids[0]]).get(ids[0], []) == []


def test_emails_logged_twice_on_a_unique_key_exist_once_and_notes_attach(
    hubspot_sandbox: SandboxHandle,
) -> None:
    with _client(hubspot_sandbox) as client:
        client.create_property(
            "emails",
            {
                "name": "coldcopy_event_key",
                "label": "ColdCopy event",
                "type": "string",
                "fieldType": "text",
                "groupName": "emailinformation",
                "hasUniqueValue": True,
            },
        )
        contact = client.create("contacts", {"email": "reader@example.com"})
        now = str(int(time.time() * 1000))
        emails = [
            {
                "coldcopy_event_key": f"evt-{i}",
                "hs_timestamp": now,
                "hs_email_direction": "EMAIL",
                "hs_email_subject": f"Hello {i}",
            }
            for i in range(3)
        ]
        first = client.log_emails(emails, [contact["id"]] * 3, key_property="coldcopy_event_key")
        second = client.log_emails(emails, [contact["id"]] * 3, key_property="coldcopy_event_key")
        assert first.errors == [] and second.errors == []
        assert {r["id"] for r in first.by_key.values()} == {r["id"] for r in second.by_key.values()}
        listed = [r for page, _ in client.list_pages("emails", ["coldcopy_event_key"]) for r in page]
        assert sorted(r["properties"]["coldcopy_event_key"] for r in listed) == ["evt-0", "evt-1", "evt-2"]
        linked = client.batch_read_associations("contacts", "emails", [contact["id"]])
        assert len(set(linked[contact["id"]])) == 3
        note = client.create_note(contact["id"], "Replied: interested", timestamp_ms=int(now))
        assert (
            note["id"] in client.batch_read_associations("contacts", "notes", [contact["id"]])[contact["id"]]
        )


def test_timeline_events_post_idempotently_with_an_oauth_token(hubspot_sandbox: SandboxHandle) -> None:
    template = httpx.post(
        f"{hubspot_sandbox.base_url}/integrators/timeline/v3/{hubspot_sandbox.app_id}/event-templates",
        params={"hapikey": hubspot_sandbox.developer_api_key},
        json={
            "name": "Email opened",
            "objectType": "contacts",
            "headerTemplate": "Opened {{subject}}",
            "tokens": [{"name": "subject", "label": "Subject", "type": "string"}],
        },
    ).json()
    token = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    with HubSpotClient(hubspot_sandbox.base_url, StaticToken(token)) as client:
        client.create("contacts", {"email": "open@example.com"})
        event = {
            "eventTemplateId": str(template["id"]),
            "id": "open-1",
            "email": "open@example.com",
            "tokens": {"subject": "Hi"},
        }
        assert client.create_timeline_event(event) is not None
        client.create_timeline_event(event)  # a repeat is not an error
        assert client.create_timeline_events([{**event, "id": f"open-{i}"} for i in range(2, 5)]) == []


def test_a_contact_is_enrolled_in_and_removed_from_a_workflow(hubspot_sandbox: SandboxHandle) -> None:
    flow = hubspot_sandbox.admin.add_flow("Nurture", workflow_id=777)
    token = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    with HubSpotClient(hubspot_sandbox.base_url, StaticToken(token)) as client:
        client.create("contacts", {"email": "lead+1@example.com"})
        assert "Nurture" in {f["name"] for f in client.list_flows()}
        client.enroll_in_workflow("777", "lead+1@example.com")
        assert len(hubspot_sandbox.admin.enrollments()) == 1
        client.unenroll_from_workflow("777", "lead+1@example.com")
    assert flow["name"] == "Nurture"


def test_a_refused_token_gives_an_auth_error_that_does_not_show_it(hubspot_sandbox: SandboxHandle) -> None:
    wrong = "pat-na1-11111111-2222-3333-4444-555555555555"
    client = HubSpotClient(hubspot_sandbox.base_url, PrivateAppToken(wrong))
    with client, pytest.raises(HubSpotAuthError) as caught:
        client.list_properties("contacts")
    assert caught.value.status == 401 and caught.value.correlation_id
    assert wrong not in str(caught.value) and wrong not in repr(caught.value.context)
