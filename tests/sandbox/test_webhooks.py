"""Webhooks end to end over real HTTP: settings and subscriptions through the developer API, events for
every change (the integration's own writes, UI edits, merges, deletions, associations), v1 and v3
signatures over the exact URL, at most 100 events per request and 10 requests in flight, retries with
backoff on the sandbox clock (failures and answers slower than 5 s), duplicates and shuffled order."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hubspot_pipeline.hubspot.signatures import verify_v1, verify_v3
from hubspot_pipeline.sandbox.testing import SandboxHandle
from tests.sandbox.receiver import Receiver, run_receiver

CONTACTS = "/crm/v3/objects/contacts"


def _developer(sandbox: SandboxHandle) -> httpx.Client:
    return httpx.Client(
        base_url=f"{sandbox.base_url}/webhooks/v3/{sandbox.app_id}",
        params={"hapikey": sandbox.developer_api_key},
    )


def subscribe(sandbox: SandboxHandle, target_url: str, *event_types: str, max_concurrent: int = 10) -> None:
    with _developer(sandbox) as developer:
        settings = developer.put(
            "/settings",
            json={
                "targetUrl": target_url,
                "throttling": {"maxConcurrentRequests": max_concurrent, "period": "SECONDLY"},
            },
        )
        assert settings.status_code == 200, settings.text
        for event_type in event_types:
            kind, _, prop = event_type.partition(":")
            body = {"eventType": kind, "active": True, **({"propertyName": prop} if prop else {})}
            assert developer.post("/subscriptions", json=body).status_code == 201


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as running:
        yield running


def test_the_integrations_own_writes_fire_signed_events(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    subscribe(hubspot_sandbox, receiver.url, "contact.creation", "contact.propertyChange:firstname")
    contact_id = api.post(CONTACTS, json={"properties": {"email": "w@x.com", "firstname": "W"}}).json()["id"]
    hubspot_sandbox.admin.flush_webhooks()
    events = sorted(receiver.events(), key=lambda e: e["subscriptionType"])
    assert [e["subscriptionType"] for e in events] == ["contact.creation", "contact.propertyChange"]
    assert {e["objectId"] for e in events} == {int(contact_id)}
    assert events[1]["propertyName"] == "firstname" and events[1]["propertyValue"] == "W"
    assert all(e["portalId"] == hubspot_sandbox.hub_id and e["attemptNumber"] == 0 for e in events)
    assert all(e["changeSource"] == "API" and isinstance(e["occurredAt"], int) for e in events)
    delivery = receiver.deliveries[0]
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    secret = hubspot_sandbox.client_secret
    assert headers["x-hubspot-signature-version"] == "v1"
    assert verify_v1(secret, delivery.body, headers["x-hubspot-signature"])
    assert verify_v3(
        secret,
        "POST",
        receiver.url,
        delivery.body,
        headers["x-hubspot-signature-v3"],
        headers["x-hubspot-request-timestamp"],
        now_ms=hubspot_sandbox.admin.now_ms(),
    )


def test_ui_edits_carry_crm_ui_and_unchanged_values_fire_nothing(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    contact_id = api.post(CONTACTS, json={"properties": {"email": "ui@x.com", "firstname": "A"}}).json()["id"]
    subscribe(hubspot_sandbox, receiver.url, "contact.propertyChange:firstname")
    hubspot_sandbox.admin.ui_edit(contact_id, {"firstname": "B"}, user_id=77)
    api.patch(f"{CONTACTS}/{contact_id}", json={"properties": {"firstname": "B"}})  # no change: no event
    hubspot_sandbox.admin.flush_webhooks()
    [event] = receiver.events()
    assert (
        event["changeSource"] == "CRM_UI"
        and event["sourceId"] == "userId:77"
        and event["propertyValue"] == "B"
    )
    history = api.get(f"{CONTACTS}/{contact_id}", params={"propertiesWithHistory": "firstname"}).json()
    assert history["propertiesWithHistory"]["firstname"][0]["sourceType"] == "CRM_UI"


def test_events_come_in_arrays_of_at_most_100_with_at_most_10_requests_in_flight(
    hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    subscribe(hubspot_sandbox, receiver.url, "contact.creation")
    receiver.answer = lambda number: (200, 0.5)
    hubspot_sandbox.admin.bulk_create(2_000)
    state = hubspot_sandbox.admin.flush_webhooks()
    assert [len(d.events) for d in receiver.deliveries] == [100] * 20
    assert receiver.max_in_flight == 10 and state["maxInFlight"] == 10
    assert len({e["eventId"] for e in receiver.events()}) == 2_000


def test_the_app_throttling_setting_lowers_concurrency(
    hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    subscribe(hubspot_sandbox, receiver.url, "contact.creation", max_concurrent=6)
    receiver.answer = lambda number: (200, 0.2)
    hubspot_sandbox.admin.bulk_create(1_000)
    hubspot_sandbox.admin.flush_webhooks()
    assert receiver.max_in_flight == 6


def test_a_failed_delivery_is_retried_later_on_the_sandbox_clock(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    subscribe(hubspot_sandbox, receiver.url, "contact.creation")
    receiver.answer = lambda number: (503 if number == 0 else 200, 0.0)
    api.post(CONTACTS, json={"properties": {"email": "retry@x.com"}})
    state = hubspot_sandbox.admin.flush_webhooks()
    assert len(receiver.deliveries) == 1 and state["retries"][0]["attemptNumber"] == 1
    # The first retry waits about a minute (with jitter); nothing is sent before it is due.
    hubspot_sandbox.admin.advance(30)
    assert len(hubspot_sandbox.admin.flush_webhooks()["retries"]) == 1 and len(receiver.deliveries) == 1
    hubspot_sandbox.admin.advance(40)
    hubspot_sandbox.admin.flush_webhooks()
    first, second = receiver.deliveries
    assert second.events[0]["attemptNumber"] == 1
    assert second.events[0]["eventId"] == first.events[0]["eventId"]
    outcomes = [a["outcome"] for a in hubspot_sandbox.admin.webhooks()["attempts"]]
    assert outcomes == ["503", "200"]


def test_an_answer_slower_than_5_seconds_is_a_failure(
    hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    # At 50x, HubSpot's 5 s wait lasts 0.1 s of real time.
    hubspot_sandbox.admin.configure(clock_scale=50.0)
    subscribe(hubspot_sandbox, receiver.url, "contact.creation")
    receiver.answer = lambda number: (200, 0.5 if number == 0 else 0.0)
    hubspot_sandbox.admin.bulk_create(1)
    state = hubspot_sandbox.admin.flush_webhooks()
    assert [a["outcome"] for a in state["attempts"]] == ["timeout"]
    assert state["retries"][0]["attemptNumber"] == 1


def test_delivery_gives_up_after_the_last_retry(hubspot_sandbox: SandboxHandle, receiver: Receiver) -> None:
    hubspot_sandbox.admin.configure(webhooks={"max_retries": 3})
    subscribe(hubspot_sandbox, receiver.url, "contact.creation")
    receiver.answer = lambda number: (500, 0.0)
    hubspot_sandbox.admin.bulk_create(1)
    hubspot_sandbox.admin.flush_webhooks()
    for _ in range(3):
        hubspot_sandbox.admin.advance(3600)
        state = hubspot_sandbox.admin.flush_webhooks()
    assert [d.events[0]["attemptNumber"] for d in receiver.deliveries] == [0, 1, 2, 3]
    assert state["eventsGivenUp"] == 1 and state["retries"] == []


def test_duplicates_and_shuffled_order_when_asked(hubspot_sandbox: SandboxHandle, receiver: Receiver) -> None:
    hubspot_sandbox.admin.configure(webhooks={"duplicate_probability": 0.5, "out_of_order": True})
    subscribe(hubspot_sandbox, receiver.url, "contact.creation")
    hubspot_sandbox.admin.bulk_create(50)
    hubspot_sandbox.admin.flush_webhooks()
    ids = [e["eventId"] for e in receiver.events()]
    assert len(set(ids)) == 50 and len(ids) > 50  # some came twice
    assert ids != sorted(ids)


def test_merges_fire_merge_and_deletion_events(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    first = api.post(CONTACTS, json={"properties": {"email": "m1@x.com"}}).json()["id"]
    second = api.post(CONTACTS, json={"properties": {"email": "m2@x.com"}}).json()["id"]
    subscribe(hubspot_sandbox, receiver.url, "contact.merge", "contact.deletion")
    merged = api.post(f"{CONTACTS}/merge", json={"primaryObjectId": first, "objectIdToMerge": second}).json()
    hubspot_sandbox.admin.flush_webhooks()
    by_type: dict[str, list[dict]] = {}
    for event in receiver.events():
        by_type.setdefault(event["subscriptionType"], []).append(event)
    [merge] = by_type["contact.merge"]
    assert merge["primaryObjectId"] == int(first) and merge["mergedObjectIds"] == [int(second)]
    assert merge["newObjectId"] == int(merged["id"])
    assert {e["objectId"] for e in by_type["contact.deletion"]} == {int(first), int(second)}


def test_inactive_subscriptions_and_no_target_send_nothing(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    api.post(CONTACTS, json={"properties": {"email": "before@x.com"}})  # no settings yet
    with _developer(hubspot_sandbox) as developer:
        developer.put(
            "/settings", json={"targetUrl": receiver.url, "throttling": {"maxConcurrentRequests": 10}}
        )
        developer.post("/subscriptions", json={"eventType": "contact.creation"})  # active defaults to false
    api.post(CONTACTS, json={"properties": {"email": "after@x.com"}})
    assert hubspot_sandbox.admin.flush_webhooks()["requestsSent"] == 0 and receiver.deliveries == []


def test_associations_fire_association_change_from_both_sides(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    contact = api.post(CONTACTS, json={"properties": {"email": "a@x.com"}}).json()["id"]
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme"}}).json()["id"]
    subscribe(hubspot_sandbox, receiver.url, "contact.associationChange", "company.associationChange")
    api.put(f"/crm/v4/objects/contact/{contact}/associations/default/company/{company}")
    hubspot_sandbox.admin.flush_webhooks()
    types = sorted((e["subscriptionType"], e["associationType"]) for e in receiver.events())
    assert types == [
        ("company.associationChange", "COMPANY_TO_CONTACT"),
        ("contact.associationChange", "CONTACT_TO_COMPANY"),
    ]


def test_portal_tokens_cannot_manage_webhooks(hubspot_sandbox: SandboxHandle) -> None:
    response = httpx.get(
        f"{hubspot_sandbox.base_url}/webhooks/v3/{hubspot_sandbox.app_id}/subscriptions",
        headers=hubspot_sandbox.auth_headers(),
    )
    assert response.status_code == 403
    bad_key = httpx.get(
        f"{hubspot_sandbox.base_url}/webhooks/v3/{hubspot_sandbox.app_id}/subscriptions",
        params={"hapikey": "wrong"},
    )
    assert bad_key.status_code == 401


def test_archive_and_restore_fire_deletion_and_restore(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    contact = api.post(CONTACTS, json={"properties": {"email": "bin@x.com"}}).json()["id"]
    subscribe(hubspot_sandbox, receiver.url, "contact.deletion", "contact.restore")
    api.delete(f"{CONTACTS}/{contact}")
    restored = hubspot_sandbox.admin.restore(contact)
    assert restored["archived"] is False and api.get(f"{CONTACTS}/{contact}").status_code == 200
    hubspot_sandbox.admin.flush_webhooks()
    assert sorted(e["subscriptionType"] for e in receiver.events()) == ["contact.deletion", "contact.restore"]


def test_a_gdpr_delete_fires_privacy_deletion_and_deletion_and_takes_the_contacts_own_content(
    api: httpx.Client, hubspot_sandbox: SandboxHandle, receiver: Receiver
) -> None:
    subscribe(hubspot_sandbox, receiver.url, "contact.privacyDeletion", "contact.deletion")
    contact = api.post(CONTACTS, json={"properties": {"email": "erase.me@x.com"}}).json()["id"]
    other = api.post(CONTACTS, json={"properties": {"email": "stays@x.com"}}).json()["id"]
    to_contact = [
        {
            "to": {"id": contact},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
        }
    ]

    def note(body: str) -> str:
        properties = {"hs_timestamp": "2026-01-01T00:00:00Z", "hs_note_body": body}
        return api.post(
            "/crm/v3/objects/notes", json={"properties": properties, "associations": to_contact}
        ).json()["id"]

    own, shared = note("mine"), note("ours")
    assert api.put(f"/crm/v4/objects/notes/{shared}/associations/default/contacts/{other}").is_success

    assert api.post(f"{CONTACTS}/gdpr-delete", json={"objectId": contact}).status_code == 204

    hubspot_sandbox.admin.flush_webhooks()
    kinds = sorted(e["subscriptionType"] for e in receiver.events() if e["objectId"] == int(contact))
    assert kinds == ["contact.deletion", "contact.privacyDeletion"]
    assert api.get(f"{CONTACTS}/{contact}", params={"archived": "true"}).status_code == 404
    assert api.get(f"/crm/v3/objects/notes/{own}").status_code == 404  # the contact's own content went
    assert api.get(f"/crm/v3/objects/notes/{shared}").status_code == 200  # another contact's stayed
    recorded = hubspot_sandbox.admin.gdpr_deletions()
    assert [(d["objectId"], d["deletedId"]) for d in recorded["results"]] == [(contact, contact)]
    assert recorded["blocklist"] == ["erase.me@x.com"]
