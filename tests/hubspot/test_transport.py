"""Protocol-level edge cases of one call, on httpx.MockTransport: each scripted answer is one HubSpot
behaviour that the sandbox cannot be made to produce on demand in exactly this order. The sandbox
integration tests (test_client_sandbox.py) cover the same paths against real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken
from hubspot_pipeline.hubspot.errors import HubSpotRateLimitError, HubSpotSyncError, HubSpotValidationError

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, auth: object = None) -> tuple[HubSpotClient, list[float]]:
    slept: list[float] = []
    client = HubSpotClient(
        "https://api.example",
        auth=auth or PrivateAppToken("pat-na1-00000000-0000-0000-0000-000000000000"),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
        max_concurrency=1,
    )
    return client, slept


def _script(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return handler, seen


def test_a_batch_post_is_retried_after_a_ten_secondly_429() -> None:
    handler, seen = _script(
        httpx.Response(
            429,
            json={"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
            headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
        ),
        httpx.Response(
            200,
            json={
                "status": "COMPLETE",
                "results": [{"id": "1", "properties": {"email": "a@x.com"}, "new": True}],
            },
        ),
    )
    client, slept = _client(handler)
    result = client.batch_upsert("contacts", [{"email": "a@x.com"}])
    assert len(seen) == 2 and slept == [10.0]
    assert result.by_key["a@x.com"]["id"] == "1"
    assert client.metrics.retries["rate_limit"] == 1


def test_a_daily_429_raises_with_the_policy() -> None:
    handler, _ = _script(
        httpx.Response(429, json={"message": "You have reached your daily limit.", "policyName": "DAILY"})
    )
    client, slept = _client(handler)
    with pytest.raises(HubSpotRateLimitError) as caught:
        client.get("contacts", "1")
    assert caught.value.policy == "DAILY" and slept == []


def test_a_dropped_connection_on_an_upsert_is_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"status": "COMPLETE", "results": []})

    client, slept = _client(handler)
    client.batch_upsert("contacts", [{"email": "a@x.com"}])
    assert calls == 2 and len(slept) == 1


def test_a_single_create_is_not_retried_after_a_5xx_because_it_may_have_been_applied() -> None:
    handler, seen = _script(httpx.Response(502, json={"message": "bad gateway"}))
    client, _ = _client(handler)
    with pytest.raises(HubSpotSyncError):
        client.create("notes", {"hs_timestamp": "1"})
    assert len(seen) == 1


def test_409_existing_id_on_create_resolves_to_that_record() -> None:
    handler, _ = _script(
        httpx.Response(
            409,
            json={
                "status": "error",
                "message": "Contact already exists. Existing ID: 12345",
                "category": "CONFLICT",
                "correlationId": "c",
            },
        )
    )
    client, _ = _client(handler)
    assert client.create("contacts", {"email": "a@x.com"})["id"] == "12345"


def test_a_207_becomes_per_row_errors_named_by_write_trace_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        return httpx.Response(
            207,
            json={
                "status": "COMPLETE",
                "results": [
                    {"id": "7", "properties": {}, "objectWriteTraceId": inputs[0]["objectWriteTraceId"]}
                ],
                "numErrors": 1,
                "errors": [
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": "INVALID_EMAIL",
                        "context": {"objectWriteTraceId": [inputs[1]["objectWriteTraceId"]]},
                    }
                ],
            },
        )

    client, _ = _client(handler)
    result = client.batch_update("contacts", {"7": {"firstname": "A"}, "8": {"email": "nope"}})
    assert result.by_key["7"]["id"] == "7"
    assert [(e.key, e.category) for e in result.errors] == [("8", "VALIDATION_ERROR")]


def test_a_batch_refused_whole_is_bisected_to_the_bad_row() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if any(i["id"] == "bad@x" for i in inputs):
            return httpx.Response(
                400,
                json={
                    "status": "error",
                    "message": "Property values were not valid",
                    "category": "VALIDATION_ERROR",
                    "correlationId": "c",
                },
            )
        return httpx.Response(
            200,
            json={
                "status": "COMPLETE",
                "results": [
                    {"id": str(n), "properties": {"email": i["id"]}, "new": True}
                    for n, i in enumerate(inputs)
                ],
            },
        )

    client, _ = _client(handler)
    records = [{"email": f"u{i}@x"} for i in range(10)] + [{"email": "bad@x"}]
    result = client.batch_upsert("contacts", records)
    assert len(result.by_key) == 10
    assert [e.key for e in result.errors] == ["bad@x"]


def test_duplicates_are_merged_before_batching_and_batches_hold_at_most_100() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        sizes.append(len(inputs))
        assert len({i["id"] for i in inputs}) == len(inputs)
        return httpx.Response(200, json={"status": "COMPLETE", "results": []})

    client, _ = _client(handler)
    records = [{"email": f"U{i % 150}@X.com", "n": i} for i in range(300)]
    client.batch_upsert("contacts", records)
    assert sorted(sizes) == [50, 100]


class _ExpiringAuth:
    def __init__(self) -> None:
        self.token = "tok-old-000000000000"
        self.refreshed = 0

    def bearer(self) -> str:
        return self.token

    def refresh_after_expired(self, used: str) -> bool:
        self.refreshed += 1
        self.token = "tok-new-000000000000"
        return True


def test_an_expired_token_is_refreshed_once_and_the_call_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer tok-old-000000000000":
            return httpx.Response(
                401,
                json={
                    "status": "error",
                    "category": "EXPIRED_AUTHENTICATION",
                    "message": "The OAuth token used to make this call expired 5 second(s) ago.",
                },
            )
        return httpx.Response(200, json={"id": "1", "properties": {}})

    auth = _ExpiringAuth()
    client, _ = _client(handler, auth)
    assert client.get("contacts", "1") == {"id": "1", "properties": {}}
    assert auth.refreshed == 1


def test_a_plain_404_on_get_is_none_and_a_400_is_a_validation_error() -> None:
    handler, _ = _script(
        httpx.Response(
            404,
            json={
                "message": "Object not found.  objectId are usually numeric.",
                "category": "OBJECT_NOT_FOUND",
            },
        ),
        httpx.Response(400, json={"message": "Property x does not exist", "category": "VALIDATION_ERROR"}),
    )
    client, _ = _client(handler)
    assert client.get("contacts", "999") is None
    with pytest.raises(HubSpotValidationError):
        client.update("contacts", "1", {"x": "y"})
