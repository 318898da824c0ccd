"""POST /webhooks: v3 (and, when allowed, v1/v2) signature checks over the raw body and exact URL, the 5-minute window,
de-duplication on (subscriptionId, eventId, objectId, occurredAt), portal to workspace mapping, durable
storage, and the 400/401/413 answers. Throughput and crash safety are in bench/api_webhook_ingest.py."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_support import Tenant, new_hub_id, point_webhooks_at, portal_headers, url
from fastapi.testclient import TestClient
from listener import listening

from hubspot_pipeline.db.tables import audit_log, webhook_events
from hubspot_pipeline.hubspot.signatures import sign_v1, sign_v2, sign_v3
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings

WEBHOOK_URL = "http://testserver" + url("/webhooks")
_event_ids = itertools.count(uuid.uuid4().int % 10**9 * 1000)


def secret() -> str:
    return get_settings().hubspot_client_secret.get_secret_value()


def event(portal_id: int, **fields: Any) -> dict[str, Any]:
    base = {
        "eventId": next(_event_ids),
        "subscriptionId": 25,
        "portalId": portal_id,
        "appId": 1,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 1246965,
        "changeSource": "CRM_UI",
        "propertyName": "firstname",
        "propertyValue": "Ada",
    }
    return {**base, **fields}


def v3_headers(
    body: bytes, *, uri: str = WEBHOOK_URL, timestamp_ms: int | None = None, key: str | None = None
):
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(key or secret(), "POST", uri, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }


def post(client: TestClient, events: list[dict[str, Any]], **signing: Any):
    body = json.dumps(events).encode()
    return client.post(url("/webhooks"), content=body, headers=v3_headers(body, **signing))


def post_raw(client: TestClient, body: bytes):
    return client.post(url("/webhooks"), content=body, headers=v3_headers(body))


def stored(engine: sa.Engine, event_ids: list[int]) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(webhook_events)
            .where(webhook_events.c.event_id.in_(event_ids))
            .order_by(webhook_events.c.id)
        ).all()


def test_a_signed_delivery_is_stored_for_its_workspace(client: TestClient, tenant: Tenant, engine) -> None:
    events = [event(tenant.hub_id), event(tenant.hub_id, subscriptionType="contact.creation", objectId=7)]
    response = post(client, events)
    assert response.status_code == 200
    assert response.json() == {
        "received": 2,
        "stored": 2,
        "duplicates": 0,
        "unknown_portals": [],
        "signature_version": "v3",
        "probes": 0,
    }
    rows = stored(engine, [e["eventId"] for e in events])
    assert [row.workspace_id for row in rows] == [tenant.workspace_id] * 2
    assert rows[0].property_name == "firstname" and rows[0].property_value == "Ada"
    assert rows[1].subscription_type == "contact.creation" and rows[1].payload == events[1]


def test_the_same_event_delivered_twice_is_stored_once(client: TestClient, tenant: Tenant, engine) -> None:
    first = event(tenant.hub_id)
    # HubSpot's eventId is not unique alone: same id, other object, is another event.
    sibling = {**first, "objectId": first["objectId"] + 1}
    assert post(client, [first, first, sibling]).json()["stored"] == 2
    retried = post(client, [{**first, "attemptNumber": 1}])
    assert retried.status_code == 200
    assert retried.json()["duplicates"] == 1
    assert len(stored(engine, [first["eventId"]])) == 2


def test_a_replayed_request_older_than_five_minutes_is_refused(
    client: TestClient, tenant: Tenant, engine
) -> None:
    events = [event(tenant.hub_id)]
    stale = int(time.time() * 1000) - 5 * 60 * 1000 - 1000
    response = post(client, events, timestamp_ms=stale)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"
    assert stored(engine, [events[0]["eventId"]]) == []


def test_a_re_signed_or_altered_request_is_refused(client: TestClient, tenant: Tenant, engine) -> None:
    events = [event(tenant.hub_id)]
    body = json.dumps(events).encode()
    # Signed with another secret.
    forged = client.post(url("/webhooks"), content=body, headers=v3_headers(body, key="not-the-app-secret"))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
    # A genuine signature moved onto a changed body.
    headers = v3_headers(body)
    altered = body.replace(b'"Ada"', b'"Eve"')
    assert client.post(url("/webhooks"), content=altered, headers=headers).status_code == 401
    # A genuine body and signature with a new timestamp (a replay trying to beat the window).
    headers["X-HubSpot-Request-Timestamp"] = str(int(time.time() * 1000) + 1)
    assert client.post(url("/webhooks"), content=body, headers=headers).status_code == 401
    # Signed for another URL.
    other = client.post(
        url("/webhooks"), content=body, headers=v3_headers(body, uri="https://elsewhere/webhooks")
    )
    assert other.status_code == 401
    assert stored(engine, [events[0]["eventId"]]) == []


def test_the_signed_url_keeps_the_query_string_and_decodes_only_what_hubspot_decodes(
    client, tenant, engine
) -> None:
    body = json.dumps([event(tenant.hub_id)]).encode()
    raw_query = "tenant=a%3Ab%2Fc%40d&space=a%20b"
    headers = v3_headers(body, uri=f"{WEBHOOK_URL}?{raw_query}")
    assert client.post(f"{url('/webhooks')}?{raw_query}", content=body, headers=headers).status_code == 200


def test_the_public_url_setting_is_what_signatures_cover_behind_a_proxy(client, tenant, monkeypatch) -> None:
    public = "https://hooks.example.com/api/integrations/hubspot/webhooks"
    monkeypatch.setenv("WEBHOOK_PUBLIC_URL", public)
    get_settings.cache_clear()
    try:
        body = json.dumps([event(tenant.hub_id)]).encode()
        as_seen_by_proxy = client.post(url("/webhooks"), content=body, headers=v3_headers(body, uri=public))
        assert as_seen_by_proxy.status_code == 200
        as_seen_locally = client.post(url("/webhooks"), content=body, headers=v3_headers(body))
        assert as_seen_locally.status_code == 401
    finally:
        monkeypatch.delenv("WEBHOOK_PUBLIC_URL")
        get_settings.cache_clear()


@pytest.fixture
def legacy_signatures_allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEBHOOK_ACCEPT_LEGACY_SIGNATURES", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_older_apps_v1_and_v2_signatures_are_accepted_when_allowed(
    client: TestClient, tenant: Tenant, legacy_signatures_allowed
) -> None:
    body = json.dumps([event(tenant.hub_id)]).encode()
    v1 = {"X-HubSpot-Signature": sign_v1(secret(), body), "X-HubSpot-Signature-Version": "v1"}
    response = client.post(url("/webhooks"), content=body, headers=v1)
    assert response.status_code == 200 and response.json()["signature_version"] == "v1"
    body = json.dumps([event(tenant.hub_id)]).encode()
    v2 = {
        "X-HubSpot-Signature": sign_v2(secret(), "POST", WEBHOOK_URL, body),
        "X-HubSpot-Signature-Version": "v2",
    }
    assert client.post(url("/webhooks"), content=body, headers=v2).json()["signature_version"] == "v2"
    wrong = {"X-HubSpot-Signature": sign_v1("other", body), "X-HubSpot-Signature-Version": "v1"}
    assert client.post(url("/webhooks"), content=body, headers=wrong).status_code == 401


def test_with_v1_allowed_only_de_duplication_stands_against_a_replay(
    client: TestClient, tenant: Tenant, engine, legacy_signatures_allowed
) -> None:
    # What remains for an app that needs v1: a replay of a delivery this API already stored adds nothing,
    # however late. A delivery it never received (captured and dropped on the way) is accepted when resent.
    events = [event(tenant.hub_id)]
    body = json.dumps(events).encode()
    v1 = {"X-HubSpot-Signature": sign_v1(secret(), body), "X-HubSpot-Signature-Version": "v1"}
    assert client.post(url("/webhooks"), content=body, headers=v1).json()["stored"] == 1
    replayed = client.post(url("/webhooks"), content=body, headers=v1)
    assert replayed.status_code == 200
    assert (replayed.json()["stored"], replayed.json()["duplicates"]) == (0, 1)
    assert len(stored(engine, [events[0]["eventId"]])) == 1


def test_a_captured_delivery_resent_without_its_v3_signature_is_refused(
    client: TestClient, tenant: Tenant, engine
) -> None:
    # Regression: HubSpot signs every delivery twice, v3 (over a timestamp) and v1 (over the body alone). A
    # delivery captured an hour ago is refused for its stale v3 timestamp, but resent with the v3 headers
    # stripped, its v1 signature was accepted, so the 5-minute window protected nothing.
    events = [event(tenant.hub_id)]
    body = json.dumps(events).encode()
    an_hour_ago = int(time.time() * 1000) - 3600 * 1000
    captured = {
        **v3_headers(body, timestamp_ms=an_hour_ago),
        "X-HubSpot-Signature": sign_v1(secret(), body),
        "X-HubSpot-Signature-Version": "v1",
    }
    as_captured = client.post(url("/webhooks"), content=body, headers=captured)
    assert as_captured.status_code == 401 and as_captured.json()["error"]["code"] == "stale_timestamp"
    v3_only = ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp")
    stripped = {name: value for name, value in captured.items() if name not in v3_only}
    resent = client.post(url("/webhooks"), content=body, headers=stripped)
    assert resent.status_code == 401, resent.text
    assert resent.json()["error"]["code"] == "legacy_signature_refused"
    assert stored(engine, [events[0]["eventId"]]) == []


def test_a_delivery_captured_off_the_wire_is_refused_on_its_v1_signature(
    client: TestClient, hubspot_sandbox: SandboxHandle, engine
) -> None:
    # The same attack on a delivery as HubSpot (here the sandbox) really sends it: v1 beside v3.
    hub_id, _ = hubspot_sandbox.admin.add_portal(new_hub_id())
    with listening() as wire:
        point_webhooks_at(hubspot_sandbox, f"{wire.base_url}/captured")
        created = httpx.post(
            f"{hubspot_sandbox.base_url}/crm/v3/objects/contacts",
            json={"properties": {"email": "ada@example.com"}},
            headers=portal_headers(hubspot_sandbox, hub_id),
        )
        assert created.status_code == 201
        hubspot_sandbox.admin.flush_webhooks()
    captured = wire.requests[0]
    assert {"X-HubSpot-Signature-v3", "X-HubSpot-Signature"} <= set(captured.headers)
    resent = client.post(
        url("/webhooks"),
        content=captured.body,
        headers={
            "Content-Type": "application/json",
            "X-HubSpot-Signature": captured.headers["X-HubSpot-Signature"],
            "X-HubSpot-Signature-Version": captured.headers["X-HubSpot-Signature-Version"],
        },
    )
    assert resent.status_code == 401 and resent.json()["error"]["code"] == "legacy_signature_refused"
    event_ids = [e["eventId"] for e in json.loads(captured.body)]
    assert stored(engine, event_ids) == []


def test_an_unsigned_request_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post(url("/webhooks"), json=[event(tenant.hub_id)])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "JSON array"),
        (b"{}", "non-empty JSON array"),
        (b"[]", "non-empty JSON array"),
        (b"[1]", "event #0 must be a JSON object"),
        (json.dumps([{"eventId": 1}]).encode(), "`portalId` must be a 64-bit integer"),
        (json.dumps([{**event(1), "objectId": "12"}]).encode(), "`objectId` must be a 64-bit integer"),
        (
            json.dumps([event(1), {**event(1), "subscriptionType": None}]).encode(),
            "event #1: `subscriptionType`",
        ),
    ],
)
def test_a_validly_signed_malformed_body_is_a_400_naming_the_problem(
    client, body: bytes, problem: str
) -> None:
    response = client.post(url("/webhooks"), content=body, headers=v3_headers(body))
    assert response.status_code == 400
    assert problem in response.json()["error"]["message"]


def test_an_oversized_body_is_a_413(client: TestClient, tenant: Tenant) -> None:
    body = json.dumps([event(tenant.hub_id, propertyValue="x" * 2_000_000)]).encode()
    response = client.post(url("/webhooks"), content=body, headers=v3_headers(body))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_an_unknown_portal_gets_2xx_and_an_audit_entry(client: TestClient, engine: sa.Engine) -> None:
    portal = 990_000_000 + uuid.uuid4().int % 1_000_000
    events = [event(portal), event(portal)]
    response = post(client, events)
    assert response.status_code == 200
    assert response.json()["unknown_portals"] == [portal]
    assert [row.workspace_id for row in stored(engine, [e["eventId"] for e in events])] == [None, None]
    with engine.connect() as conn:
        entry = conn.execute(sa.select(audit_log).where(audit_log.c.target == f"portal:{portal}")).one()
    assert entry.action == "webhook.unknown_portal"
    assert entry.details["events"] == 2 and entry.workspace_id is None


def test_a_disconnected_portal_is_treated_as_unknown(client: TestClient, tenant: Tenant, engine) -> None:
    from hubspot_pipeline.db.tables import hubspot_integrations

    with engine.begin() as conn:
        conn.execute(
            sa.update(hubspot_integrations)
            .where(hubspot_integrations.c.workspace_id == tenant.workspace_id)
            .values(access_token=None, refresh_token=None)
        )
    assert post(client, [event(tenant.hub_id)]).json()["unknown_portals"] == [tenant.hub_id]


@pytest.mark.parametrize("depth", [100_000, 990, 17])
def test_a_validly_signed_body_nested_too_deep_is_a_400(
    client: TestClient, tenant: Tenant, depth: int
) -> None:
    # Regression: past Python's recursion limit json.loads raised RecursionError, uncaught: a 500. Just under
    # it, the body parsed, and the walk looking for NUL characters recursed past the limit instead. HubSpot's
    # events nest three levels (the array, an event, mergedObjectIds).
    nested = "[" * depth + '"\\u0000"' + "]" * depth
    body = json.dumps([event(tenant.hub_id, propertyValue=None)]).encode().replace(b"null", nested.encode())
    response = client.post(url("/webhooks"), content=body, headers=v3_headers(body))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_body"
    assert "nests deeper" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (b"1e999", "a number too large"),  # json.loads reads it as infinity, which jsonb refuses
        (b"-1e999", "a number too large"),
        (b'"\\ud800"', "an unpaired surrogate"),  # an escape that is no character; jsonb refuses it
        (b'{"\\udfff": 1}', "an unpaired surrogate"),
    ],
)
def test_a_validly_signed_body_jsonb_cannot_hold_is_a_400(
    client: TestClient, tenant: Tenant, engine, value: bytes, problem: str
) -> None:
    # Regression: these parsed, then PostgreSQL refused the events' cast to jsonb: a 500, and the database
    # error's text (with the statement's parameters: the whole payload) went to the log.
    events = [event(tenant.hub_id, propertyValue=None)]
    body = json.dumps(events).encode().replace(b"null", value)
    response = client.post(url("/webhooks"), content=body, headers=v3_headers(body))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_body"
    assert problem in response.json()["error"]["message"]
    assert stored(engine, [events[0]["eventId"]]) == []


def test_a_character_escaped_as_a_surrogate_pair_is_stored(
    client: TestClient, tenant: Tenant, engine
) -> None:
    events = [event(tenant.hub_id, propertyValue="\U0001f600 Ada")]
    body = json.dumps(events).encode()  # ensure_ascii: the emoji travels as \\ud83d\\ude00
    assert b"\\ud83d\\ude00" in body
    assert post_raw(client, body).status_code == 200
    assert stored(engine, [events[0]["eventId"]])[0].property_value == "\U0001f600 Ada"


@pytest.mark.parametrize("timestamp", [b"\xb2", b"1\xb9\xb3", b"9" * 5000, b"-1", b"+1", b"1_000"])
def test_a_timestamp_header_that_is_not_epoch_milliseconds_is_a_401(served_api, tenant, timestamp) -> None:
    # Regression: str.isdigit() accepts superscript digits (a header byte 0xB2 is read as "²"), which int()
    # refuses, and int() refuses more than 4,300 digits: both were 500s. Over real HTTP, since the test
    # client re-encodes header bytes.
    body = json.dumps([event(tenant.hub_id)]).encode()
    headers = {name.encode(): value.encode() for name, value in v3_headers(body).items()}
    headers[b"X-HubSpot-Request-Timestamp"] = timestamp
    response = httpx.post(served_api.webhook_url, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "bad_timestamp"
