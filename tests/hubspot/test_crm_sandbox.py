"""The rest of the client's surface against the sandbox over HTTP: list scans, properties and groups,
associations v4, email and note engagements (one call each, results by key, a 5xx after the write reported as
unknown), timeline events (OAuth only, as in HubSpot; a repeated id is never a second event) with templates
made by developer credentials, and workflow enrollment. Batch, search, budget and OAuth have files of their own."""

from __future__ import annotations

import time

import pytest

from hubspot_pipeline.hubspot import (
    AccessToken,
    DeveloperClient,
    HubSpotAuthError,
    HubSpotClient,
    PrivateAppToken,
    RetryPolicy,
)
from hubspot_pipeline.hubspot.activities import EMAIL_TO_CONTACT
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


def test_engagements_are_created_on_their_contact_and_reported_by_key(hubspot_sandbox: SandboxHandle) -> None:
    with _client(hubspot_sandbox) as client:
        contact = client.create("contacts", {"email": "reader@example.com"})["id"]
        now = str(int(time.time() * 1000))
        emails = [
            (
                f"evt-{i}",
                {"hs_timestamp": now, "hs_email_direction": "EMAIL", "hs_email_subject": f"Hello {i}"},
                contact,
            )
            for i in range(3)
        ]
        bad = ("evt-bad", {"hs_timestamp": now, "hs_email_direction": "SIDEWAYS"}, contact)
        created = client.create_engagements("emails", [*emails, bad], association_type=EMAIL_TO_CONTACT)
        assert sorted(created.by_key) == ["evt-0", "evt-1", "evt-2"]
        assert [(e.key, e.retryable) for e in created.errors] == [("evt-bad", False)]
        assert "SIDEWAYS" in created.errors[0].message
        linked = client.associated_ids("contacts", "emails", [contact])
        assert sorted(linked[contact]) == sorted(str(r["id"]) for r in created.by_key.values())
        notes = client.create_engagements(
            "notes",
            [("n-1", {"hs_timestamp": now, "hs_note_body": "Replied"}, contact)],
            association_type=202,
        )
        assert client.associated_ids("contacts", "notes", [contact]) == {
            contact: [str(notes.by_key["n-1"]["id"])]
        }
        assert client.associated_ids("contacts", "notes", ["424242"]) == {"424242": []}
        with pytest.raises(ValueError, match="at most 100"):
            client.create_engagements("notes", [("k", {}, contact)] * 101, association_type=202)


def test_associated_ids_follow_each_records_paging(hubspot_sandbox: SandboxHandle) -> None:
    with _client(hubspot_sandbox) as client:
        contact = client.create("contacts", {"email": "busy@example.com"})["id"]
        now = str(int(time.time() * 1000))
        made = set()
        for start in range(0, 600, 100):
            batch = [
                (str(i), {"hs_timestamp": now, "hs_note_body": f"n{i}"}, contact)
                for i in range(start, start + 100)
            ]
            made |= {
                str(r["id"])
                for r in client.create_engagements("notes", batch, association_type=202).by_key.values()
            }
        assert (
            set(client.associated_ids("contacts", "notes", [contact])[contact]) == made
        )  # 600 > one page of 500


def test_an_engagement_create_answered_5xx_after_the_write_is_reported_as_unknown(
    hubspot_sandbox: SandboxHandle,
) -> None:
    with HubSpotClient(
        hubspot_sandbox.base_url,
        PrivateAppToken(hubspot_sandbox.private_app_token),
        retry=RetryPolicy(base_delay=0.01, max_delay=0.02),
    ) as client:
        contact = client.create("contacts", {"email": "flaky@example.com"})["id"]
        hubspot_sandbox.admin.configure(faults={"error_after_write": 1.0})
        now = str(int(time.time() * 1000))
        result = client.create_engagements(
            "emails",
            [("evt-1", {"hs_timestamp": now, "hs_email_direction": "EMAIL"}, contact)],
            association_type=198,
        )
        hubspot_sandbox.admin.configure(faults={"error_after_write": 0.0})
        assert result.by_key == {} and [(e.key, e.retryable) for e in result.errors] == [("evt-1", True)]
        # Never retried (a create is not idempotent): HubSpot wrote it once.
        assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/emails/batch/create") == 1
        assert len(client.associated_ids("contacts", "emails", [contact])[contact]) == 1


@pytest.mark.parametrize("repeat", ["conflict", "overwrite"])
def test_timeline_events_post_idempotently_with_an_oauth_token(
    hubspot_sandbox: SandboxHandle, repeat: str
) -> None:
    hubspot_sandbox.admin.configure(timeline_repeat=repeat)
    with DeveloperClient(
        hubspot_sandbox.base_url, app_id=hubspot_sandbox.app_id, api_key=hubspot_sandbox.developer_api_key
    ) as developer:
        template = developer.create_event_template(
            {
                "name": "Email opened",
                "objectType": "contacts",
                "headerTemplate": "Opened {{subject}}",
                "tokens": [{"name": "subject", "label": "Subject", "type": "string"}],
            }
        )
        assert [t["id"] for t in developer.list_event_templates()] == [template["id"]]
    token = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    with HubSpotClient(hubspot_sandbox.base_url, AccessToken(token)) as client:
        contact = client.create("contacts", {"email": "open@example.com"})["id"]
        event = {
            "eventTemplateId": str(template["id"]),
            "id": "open-1",
            "objectId": contact,
            "tokens": {"subject": "Hi"},
        }
        first = client.create_timeline_events([event])
        assert first.created == ["open-1"] and first.errors == []
        again = client.create_timeline_events(
            [event, {**event, "id": "open-2"}, {**event, "id": "open-3", "tokens": {"x": "1"}}]
        )
        if repeat == "conflict":
            assert again.existing == ["open-1"] and again.created == ["open-2"]
        else:  # HubSpot may overwrite instead: answered like a create, still one event
            assert sorted(again.created) == ["open-1", "open-2"] and again.existing == []
        assert [(e.key, e.category) for e in again.errors] == [("open-3", "VALIDATION_ERROR")]
        alone = client.create_timeline_events([event])  # a lone repeat may come back as a whole-call 409
        assert alone.errors == [] and (alone.existing or alone.created) == ["open-1"]
    ids = sorted(e["id"] for e in hubspot_sandbox.admin.timeline_events())
    assert ids == ["open-1", "open-2"]


def test_a_contact_is_enrolled_in_and_removed_from_a_workflow(hubspot_sandbox: SandboxHandle) -> None:
    flow = hubspot_sandbox.admin.add_flow("Nurture", workflow_id=777)
    token = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    with HubSpotClient(hubspot_sandbox.base_url, AccessToken(token)) as client:
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


@pytest.mark.parametrize("missing", [404, 412])
def test_enrollment_reports_an_unknown_workflow_or_contact_whichever_status_hubspot_answers(
    hubspot_sandbox: SandboxHandle, missing: int
) -> None:
    # HubSpot documents neither status: the client takes both as "not enrolled", with HubSpot's message.
    hubspot_sandbox.admin.configure(enrollment_missing_status=missing)
    hubspot_sandbox.admin.add_flow("Nurture", workflow_id=778)
    token = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    with HubSpotClient(hubspot_sandbox.base_url, AccessToken(token)) as client:
        contact = client.create("contacts", {"email": "known@example.com"})
        no_contact = client.enroll_contact("778", "nobody@example.com")
        no_workflow = client.enroll_contact("1", "known@example.com")
        assert (no_contact.enrolled, no_contact.status) == (False, missing)
        assert "nobody@example.com does not exist" in no_contact.message
        assert (no_workflow.enrolled, no_workflow.status) == (False, missing)
        first, again = (
            client.enroll_contact("778", "known@example.com"),
            client.enroll_contact("778", "known@example.com"),
        )
        assert (
            first.enrolled and again.enrolled
        )  # re-enrolling an enrolled contact: a 204 that changes nothing
        assert client.enrolled_workflows(contact["id"]) == {778}
        assert client.enrolled_workflows("999999999") is None
        assert client.map_workflow_ids(workflow_ids=["778", "5"]) == [
            (next(f["id"] for f in client.list_flows() if f["name"] == "Nurture"), "778")
        ]
    assert len(hubspot_sandbox.admin.enrollments()) == 1
