"""Every response the sandbox gives on an endpoint that one of HubSpot's OpenAPI files describes is
validated against that file's schema for the status code (or its `default`), successes and errors alike.
A scenario drives every served operation; the test also checks none was left out.

Deliberate exception: 429 bodies follow HubSpot's documented rate-limit shape ({status, message,
errorType, correlationId, policyName}; reference §9.3, "no category"), which its own `Error` schema does
not describe; they are checked against that shape instead."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jsonschema
import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle
from tests.sandbox.openapi import Specs

# Spec operations the sandbox does not serve, and why.
NOT_SERVED = {
    ("POST", "/crm/v4/associations/usage/high-usage-report/{userId}"): "a reporting job, no sync use",
    ("POST", "/automation/v4/flows"): "flows are made in HubSpot's UI (/_sandbox/portals/{hub}/flows here)",
    ("PUT", "/automation/v4/flows/{flowId}"): "as above",
    ("DELETE", "/automation/v4/flows/{flowId}"): "as above",
    ("POST", "/automation/v4/flows/batch/read"): "not needed by the sync",
    ("GET", "/automation/v4/flows/email-campaigns"): "not needed by the sync",
    ("GET", "/automation/v4/flows/performance/{flowId}"): "not needed by the sync",
}


@dataclass
class Recorded:
    method: str
    path: str
    status: int
    body: bytes


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self, log: list[Recorded]) -> None:
        super().__init__()
        self.log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.log.append(Recorded(request.method, request.url.path, response.status_code, response.content))
        return response


@pytest.fixture(scope="module")
def specs() -> Specs:
    return Specs()


@pytest.fixture
def log() -> list[Recorded]:
    return []


@pytest.fixture
def clients(hubspot_sandbox: SandboxHandle, log: list[Recorded]) -> Iterator[dict[str, httpx.Client]]:
    hubspot_sandbox.admin.configure(rate_limits_enabled=False)
    oauth = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    made = {
        "pat": httpx.Client(
            base_url=hubspot_sandbox.base_url,
            headers=hubspot_sandbox.auth_headers(),
            transport=RecordingTransport(log),
        ),
        "oauth": httpx.Client(
            base_url=hubspot_sandbox.base_url,
            headers=hubspot_sandbox.auth_headers(oauth),
            transport=RecordingTransport(log),
        ),
        "developer": httpx.Client(
            base_url=hubspot_sandbox.base_url,
            params={"hapikey": hubspot_sandbox.developer_api_key},
            transport=RecordingTransport(log),
        ),
        "anonymous": httpx.Client(base_url=hubspot_sandbox.base_url, transport=RecordingTransport(log)),
    }
    yield made
    for client in made.values():
        client.close()


def _variant(properties: dict[str, str], tag: str) -> dict[str, str]:
    """The same values with a distinct email, so creates do not collide on the unique email."""
    return {k: (f"{tag}-{v}" if k == "email" else v) for k, v in properties.items()}


def _crm_scenario(api: httpx.Client, object_type: str, properties: dict[str, str]) -> str:
    base = f"/crm/v3/objects/{object_type}"
    created = api.post(base, json={"properties": properties}).json()["id"]
    api.get(base, params={"limit": 1, "properties": "hs_object_id", "propertiesWithHistory": "hs_object_id"})
    api.get(f"{base}/{created}", params={"associations": "contacts,companies"})
    api.get(f"{base}/999999")
    api.patch(f"{base}/{created}", json={"properties": properties})
    api.patch(f"{base}/{created}", json={"properties": {"nope": "1"}})
    batch = api.post(f"{base}/batch/create", json={"inputs": [{"properties": _variant(properties, "b1")}]})
    batch = batch.json()["results"]
    api.post(
        f"{base}/batch/create",
        json={
            "inputs": [
                {"properties": _variant(properties, "b2"), "objectWriteTraceId": "a"},
                {"properties": {"nope": "x"}, "objectWriteTraceId": "b"},
            ]
        },
    )
    api.post(
        f"{base}/batch/read",
        json={"inputs": [{"id": created}], "properties": [], "propertiesWithHistory": []},
    )
    api.post(
        f"{base}/batch/read",
        json={"inputs": [{"id": created}, {"id": "1"}], "properties": [], "propertiesWithHistory": []},
    )
    api.post(f"{base}/batch/update", json={"inputs": [{"id": created, "properties": properties}]})
    api.post(f"{base}/batch/update", json={"inputs": [{"id": "1", "properties": properties}]})
    api.post(f"{base}/batch/upsert", json={"inputs": [{"id": created, "properties": properties}]})
    api.post(
        f"{base}/batch/upsert",
        json={"inputs": [{"id": created, "properties": properties}, {"id": "2", "properties": {}}]},
    )
    api.post(
        f"{base}/search", json={"limit": 5, "after": "0", "filterGroups": [], "sorts": [], "properties": []}
    )
    api.post(f"{base}/search", json={"after": "10000"})
    api.post(f"{base}/batch/archive", json={"inputs": [{"id": batch[0]["id"]}]})
    api.delete(f"{base}/{batch[0]['id']}")
    return created


def test_every_response_matches_hubspots_schema(
    clients: dict[str, httpx.Client], hubspot_sandbox: SandboxHandle, log: list[Recorded], specs: Specs
) -> None:
    api, oauth, developer, anonymous = (
        clients["pat"],
        clients["oauth"],
        clients["developer"],
        clients["anonymous"],
    )
    contact = _crm_scenario(api, "contacts", {"email": "s@x.com", "firstname": "S"})
    api.post("/crm/v3/objects/contacts", json={"properties": {"email": "s@x.com"}})  # 409
    api.post(
        "/crm/v3/objects/contacts/batch/upsert",
        json={"inputs": [{"id": "u@x.com", "idProperty": "email", "properties": {"firstname": "U"}}]},
    )
    other = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "o@x.com"}}).json()["id"]
    merged = api.post(
        "/crm/v3/objects/contacts/merge", json={"primaryObjectId": contact, "objectIdToMerge": other}
    )
    contact = merged.json()["id"]
    api.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "u@x.com", "idProperty": "email"})
    company = _crm_scenario(api, "companies", {"name": "Acme", "domain": "acme.com"})
    second = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme 2"}}).json()["id"]
    company = api.post(
        "/crm/v3/objects/companies/merge", json={"primaryObjectId": company, "objectIdToMerge": second}
    ).json()["id"]
    _crm_scenario(api, "emails", {"hs_timestamp": "1700000000000", "hs_email_direction": "EMAIL"})
    _crm_scenario(api, "notes", {"hs_timestamp": "1700000000000", "hs_note_body": "n"})
    anonymous.get("/crm/v3/objects/contacts")  # 401

    properties = "/crm/v3/properties/contacts"
    api.get(properties)
    api.post(
        properties,
        json={
            "name": "cc_id",
            "label": "CC",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "hasUniqueValue": True,
        },
    )
    api.post(
        properties,
        json={
            "name": "cc_id",
            "label": "CC",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        },
    )
    api.get(f"{properties}/cc_id")
    api.patch(f"{properties}/cc_id", json={"label": "CC id"})
    api.post(
        f"{properties}/batch/create",
        json={
            "inputs": [
                {
                    "name": "b1",
                    "label": "B",
                    "type": "number",
                    "fieldType": "number",
                    "groupName": "contactinformation",
                }
            ]
        },
    )
    api.post(
        f"{properties}/batch/read",
        json={"inputs": [{"name": "b1"}], "archived": False, "dataSensitivity": "non_sensitive"},
    )
    api.post(f"{properties}/batch/archive", json={"inputs": [{"name": "b1"}]})
    api.delete(f"{properties}/cc_id")
    api.get(f"{properties}/missing")
    api.get(f"{properties}/groups")
    api.post(f"{properties}/groups", json={"name": "g1", "label": "G"})
    api.get(f"{properties}/groups/g1")
    api.patch(f"{properties}/groups/g1", json={"label": "G1"})
    api.delete(f"{properties}/groups/g1")

    api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}")
    api.put(
        f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies")
    assoc = "/crm/v4/associations/contacts/companies/batch"
    pair = {"from": {"id": contact}, "to": {"id": company}}
    api.post(f"{assoc}/associate/default", json={"inputs": [pair]})
    api.post(
        f"{assoc}/create",
        json={
            "inputs": [
                {**pair, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}
            ]
        },
    )
    api.post(f"{assoc}/read", json={"inputs": [{"id": contact}, {"id": "1"}]})
    api.post(f"{assoc}/read", json={"inputs": [{"id": contact}]})
    api.post(
        f"{assoc}/labels/archive",
        json={
            "inputs": [
                {**pair, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}
            ]
        },
    )
    api.post(f"{assoc}/archive", json={"inputs": [{"from": {"id": contact}, "to": [{"id": company}]}]})
    api.delete(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}")

    app = hubspot_sandbox.app_id
    templates = f"/integrators/timeline/v3/{app}/event-templates"
    template = developer.post(
        templates,
        json={
            "name": "T",
            "objectType": "contacts",
            "tokens": [{"name": "a", "label": "A", "type": "string"}],
        },
    ).json()["id"]
    developer.get(templates)
    developer.get(f"{templates}/{template}")
    developer.put(
        f"{templates}/{template}",
        json={"id": template, "name": "T2", "tokens": [{"name": "a", "label": "A", "type": "string"}]},
    )
    developer.post(f"{templates}/{template}/tokens", json={"name": "b", "label": "B", "type": "number"})
    developer.put(f"{templates}/{template}/tokens/b", json={"label": "Bee", "options": []})
    developer.delete(f"{templates}/{template}/tokens/b")
    event = {"eventTemplateId": template, "id": "e1", "objectId": contact, "tokens": {"a": "x"}}
    oauth.post("/integrators/timeline/v3/events", json=event)
    oauth.post("/integrators/timeline/v3/events", json=event)  # 409
    oauth.post("/integrators/timeline/v3/events/batch/create", json={"inputs": [{**event, "id": "e2"}]})
    oauth.post(
        "/integrators/timeline/v3/events/batch/create", json={"inputs": [{**event, "id": "e3"}, event]}
    )
    oauth.get(f"/integrators/timeline/v3/events/{template}/e1")
    developer.delete(f"{templates}/{template}")

    hooks = f"/webhooks/v3/{app}"
    developer.get(f"{hooks}/settings")  # 404 before any settings
    developer.put(
        f"{hooks}/settings",
        json={
            "targetUrl": "http://127.0.0.1:9/hook",
            "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"},
        },
    )
    developer.get(f"{hooks}/settings")
    subscription = developer.post(f"{hooks}/subscriptions", json={"eventType": "contact.creation"}).json()[
        "id"
    ]
    developer.get(f"{hooks}/subscriptions")
    developer.get(f"{hooks}/subscriptions/{subscription}")
    developer.patch(f"{hooks}/subscriptions/{subscription}", json={"active": True})
    developer.post(
        f"{hooks}/subscriptions/batch/update", json={"inputs": [{"id": int(subscription), "active": False}]}
    )
    developer.post(f"{hooks}/subscriptions/batch/update", json={"inputs": [{"id": 999, "active": False}]})
    developer.delete(f"{hooks}/subscriptions/{subscription}")
    developer.delete(f"{hooks}/settings")

    flow = hubspot_sandbox.admin.add_flow("F")["id"]
    api.get("/automation/v4/flows")
    api.get(f"/automation/v4/flows/{flow}")
    mappings = "/automation/v4/workflow-id-mappings/batch/read"
    api.post(mappings, json={"inputs": [{"type": "FLOW_ID", "flowId": flow}]})
    api.post(
        mappings,
        json={"inputs": [{"type": "FLOW_ID", "flowId": flow}, {"type": "WORKFLOW_ID", "workflowId": "7"}]},
    )

    token = hubspot_sandbox.admin.issue_oauth_token()
    anonymous.get(f"/oauth/v1/access-tokens/{token['access_token']}")
    anonymous.get("/oauth/v1/access-tokens/unknown")
    anonymous.get(f"/oauth/v1/refresh-tokens/{token['refresh_token']}")
    form = {
        "grant_type": "refresh_token",
        "client_id": hubspot_sandbox.client_id,
        "client_secret": hubspot_sandbox.client_secret,
        "refresh_token": token["refresh_token"],
    }
    anonymous.post("/oauth/v1/token", data=form)
    anonymous.post("/oauth/v1/token", data={**form, "refresh_token": "bad"})
    anonymous.delete(f"/oauth/v1/refresh-tokens/{token['refresh_token']}")

    validated: set[tuple[str, str]] = set()
    for recorded in log:
        operation = specs.operation(recorded.method, recorded.path)
        if operation is None:
            continue
        if recorded.status == 429:
            body = httpx.Response(429, content=recorded.body).json()
            assert {"status", "message", "errorType", "correlationId", "policyName"} <= body.keys()
            continue
        try:
            specs.validate(operation, recorded.status, recorded.body)
        except Exception as error:
            raise AssertionError(
                f"{recorded.method} {recorded.path} -> {recorded.status}: {error}"
            ) from error
        validated.add((operation.method, operation.path))

    every = {(op.method, op.path) for op in specs.operations}
    assert every - validated - set(NOT_SERVED) == set()
    statuses = {r.status for r in log}
    assert {200, 201, 204, 207, 400, 401, 404, 409} <= statuses


def test_the_validator_rejects_what_hubspot_would_not_send(specs: Specs) -> None:
    # Guards the test above against passing vacuously.
    operation = specs.operation("GET", "/crm/v3/objects/contacts/123")
    assert operation is not None and operation.spec == "crm-contacts-v3"
    good = b'{"id":"1","properties":{"a":"b"},"createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.000Z","archived":false}'
    specs.validate(operation, 200, good)
    for bad in (
        good.replace(b'"id":"1",', b""),
        good.replace(b'"b"', b"1"),
        good.replace(b"2024-01-01T", b"yesterday "),
    ):
        with pytest.raises(jsonschema.ValidationError):
            specs.validate(operation, 200, bad)
    with pytest.raises(jsonschema.ValidationError):
        specs.validate(operation, 404, b'{"status":"error","message":"x"}')  # no category, no correlationId
