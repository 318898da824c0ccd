"""Batch endpoints: HubSpot's 200/201/207/400/409/204 rules, the 100-input limit (50 with history),
upsert by unique properties only, and that batch work is counted as one call."""

from __future__ import annotations

from datetime import datetime

import httpx

from hubspot_pipeline.sandbox.testing import SandboxHandle

BATCH = "/crm/v3/objects/contacts/batch"


def _upsert_inputs(emails: list[str], **properties: str) -> dict:
    return {"inputs": [{"id": e, "idProperty": "email", "properties": dict(properties)} for e in emails]}


def test_upsert_by_email_creates_then_updates_and_says_which_is_new(api: httpx.Client) -> None:
    first = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["a@x.com", "b@x.com"], firstname="A"))
    assert first.status_code == 200
    assert [r["new"] for r in first.json()["results"]] == [True, True]
    second = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["A@x.com", "c@x.com"], firstname="B"))
    results = {r["properties"]["email"]: r for r in second.json()["results"]}
    assert results["a@x.com"]["new"] is False and results["c@x.com"]["new"] is True
    assert results["a@x.com"]["properties"]["firstname"] == "B"
    assert results["a@x.com"]["id"] == first.json()["results"][0]["id"]


def test_upsert_by_a_non_unique_property_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/crm/v3/objects/companies/batch/upsert",
        json={"inputs": [{"id": "acme.com", "idProperty": "domain", "properties": {"name": "Acme"}}]},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Unable to perform update/upsert by non-unique 0-2 property domain"


def test_upsert_with_two_inputs_for_one_record_is_rejected(api: httpx.Client) -> None:
    response = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["same@x.com", "SAME@x.com"]))
    assert response.status_code == 400
    assert api.post("/crm/v3/objects/contacts/search", json={}).json()["total"] == 0


def test_upsert_by_email_is_all_or_nothing(api: httpx.Client) -> None:
    body = _upsert_inputs(["ok@x.com", "bad@x.com"])
    body["inputs"][1]["properties"] = {"lifecyclestage": "not-a-stage"}
    response = api.post(f"{BATCH}/upsert", json=body)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "INVALID_OPTION"
    assert api.get("/crm/v3/objects/contacts").json()["results"] == []


def test_batch_read_with_missing_ids_is_207_listing_them(api: httpx.Client) -> None:
    created = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["r@x.com"])).json()["results"][0]
    response = api.post(f"{BATCH}/read", json={"inputs": [{"id": created["id"]}, {"id": "1"}, {"id": "2"}]})
    assert response.status_code == 207
    body = response.json()
    assert [r["id"] for r in body["results"]] == [created["id"]]
    assert body["numErrors"] == 1 and body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["1", "2"]}
    all_found = api.post(f"{BATCH}/read", json={"inputs": [{"id": created["id"]}]})
    assert all_found.status_code == 200 and "errors" not in all_found.json()


def test_batch_read_by_email_and_with_history(api: httpx.Client) -> None:
    api.post(f"{BATCH}/upsert", json=_upsert_inputs(["h@x.com"], firstname="One"))
    api.post(f"{BATCH}/upsert", json=_upsert_inputs(["h@x.com"], firstname="Two"))
    body = api.post(
        f"{BATCH}/read",
        json={"idProperty": "email", "inputs": [{"id": "h@x.com"}], "propertiesWithHistory": ["firstname"]},
    ).json()
    history = body["results"][0]["propertiesWithHistory"]["firstname"]
    assert [h["value"] for h in history] == ["Two", "One"]  # newest first
    # Each change carries its time, as HubSpot's ValueWithTimestamp: the `latest` policy compares by it.
    stamps = [datetime.fromisoformat(h["timestamp"].replace("Z", "+00:00")) for h in history]
    assert stamps[0] >= stamps[1] and all(h["sourceType"] for h in history)
    fifty = api.post(
        f"{BATCH}/read",
        json={"inputs": [{"id": str(i)} for i in range(50)], "propertiesWithHistory": ["firstname"]},
    )
    assert fifty.status_code in (200, 207)  # 50 is allowed; the ids do not exist, so 207 names them
    too_many = api.post(
        f"{BATCH}/read",
        json={"inputs": [{"id": str(i)} for i in range(51)], "propertiesWithHistory": ["firstname"]},
    )
    assert too_many.status_code == 400
    assert "property histories is 50" in too_many.json()["message"]


def test_more_than_100_inputs_is_400(api: httpx.Client) -> None:
    emails = [f"n{i}@x.com" for i in range(101)]
    response = api.post(f"{BATCH}/upsert", json=_upsert_inputs(emails))
    assert response.status_code == 400 and response.json()["category"] == "VALIDATION_ERROR"
    assert api.post(f"{BATCH}/upsert", json=_upsert_inputs(emails[:100])).status_code == 200


def test_batch_create_with_an_existing_email_fails_whole_with_409_naming_the_first(api: httpx.Client) -> None:
    existing = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["e1@x.com", "e2@x.com"])).json()["results"]
    response = api.post(
        f"{BATCH}/create",
        json={"inputs": [{"properties": {"email": e}} for e in ("new@x.com", "e1@x.com", "e2@x.com")]},
    )
    assert response.status_code == 409
    assert response.json()["message"] == f"Contact already exists. Existing ID: {existing[0]['id']}"
    assert api.get("/crm/v3/objects/contacts/new@x.com", params={"idProperty": "email"}).status_code == 404


def test_batch_create_with_trace_ids_reports_each_failure_in_a_207(api: httpx.Client) -> None:
    api.post(f"{BATCH}/upsert", json=_upsert_inputs(["taken@x.com"]))
    inputs = [
        {"properties": {"email": "fresh@x.com"}, "objectWriteTraceId": "t1"},
        {"properties": {"email": "taken@x.com"}, "objectWriteTraceId": "t2"},
        {"properties": {"email": "broken@"}, "objectWriteTraceId": "t3"},
    ]
    response = api.post(f"{BATCH}/create", json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t1"]
    assert {e["context"]["objectWriteTraceId"][0]: e["category"] for e in body["errors"]} == {
        "t2": "CONFLICT",
        "t3": "VALIDATION_ERROR",
    }
    all_ok = api.post(f"{BATCH}/create", json={"inputs": [{"properties": {"email": "z@x.com"}}]})
    assert all_ok.status_code == 201


def test_batch_update_with_missing_ids_is_207_and_updates_the_rest(api: httpx.Client) -> None:
    record = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["u@x.com"])).json()["results"][0]
    response = api.post(
        f"{BATCH}/update",
        json={
            "inputs": [{"id": record["id"], "properties": {"lastname": "L"}}, {"id": "42", "properties": {}}]
        },
    )
    assert response.status_code == 207
    assert response.json()["results"][0]["properties"]["lastname"] == "L"
    assert response.json()["errors"][0]["context"] == {"ids": ["42"]}


def test_batch_archive_is_204_even_for_unknown_ids(api: httpx.Client, hubspot_sandbox: SandboxHandle) -> None:
    record = api.post(f"{BATCH}/upsert", json=_upsert_inputs(["d@x.com"])).json()["results"][0]
    response = api.post(f"{BATCH}/archive", json={"inputs": [{"id": record["id"]}, {"id": "7"}]})
    assert response.status_code == 204 and response.content == b""
    assert api.get(f"/crm/v3/objects/contacts/{record['id']}").status_code == 404
    assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/archive", 204) == 1


def test_upsert_by_a_custom_unique_property_allows_partial_results(api: httpx.Client) -> None:
    created = api.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "coldcopy_lead_id",
            "label": "ColdCopy lead id",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "hasUniqueValue": True,
        },
    )
    assert created.status_code == 201, created.text
    inputs = [
        {
            "id": "L1",
            "idProperty": "coldcopy_lead_id",
            "properties": {"email": "l1@x.com"},
            "objectWriteTraceId": "1",
        },
        {
            "id": "L2",
            "idProperty": "coldcopy_lead_id",
            "properties": {"email": "nope"},
            "objectWriteTraceId": "2",
        },
    ]
    response = api.post(f"{BATCH}/upsert", json={"inputs": inputs})
    assert response.status_code == 207
    assert response.json()["results"][0]["properties"]["coldcopy_lead_id"] == "L1"
    again = api.post(f"{BATCH}/upsert", json={"inputs": inputs[:1]})
    assert again.status_code == 200 and again.json()["results"][0]["new"] is False
