"""What a request may be: the size of its head (request line and headers) and of its body on every endpoint
that reads one, checked before authentication and before anything is parsed, whether the body declares its
length or streams it; and what FastAPI's JSON parsing makes of bodies built to break it (nesting, numbers,
bytes that are not UTF-8): a 4xx in the API's error shape, never a 500. The webhook receiver parses its own
body (test_webhooks.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from api_support import Api, Tenant, make_tenant, url
from fastapi.testclient import TestClient

JSON_ENDPOINTS = [("PUT", "/config"), ("POST", "/mappings"), ("POST", "/sync/contacts")]
BODY_ENDPOINTS = [*JSON_ENDPOINTS, ("POST", "/webhooks")]
OVERSIZED = 16 * 1024 * 1024
JSON = {"content-type": "application/json"}


@pytest.fixture
def lonely(engine: sa.Engine) -> Tenant:
    """A workspace with a key and no HubSpot connection: nothing here leaves the process."""
    return make_tenant(engine, connected=False)


def _padded(size: int) -> bytes:
    return b'{"enabled": true, "padding": "' + b"x" * size + b'"}'


def _chunks(body: bytes, size: int = 1024 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_an_oversized_body_is_refused_before_authentication(client: TestClient, method, path) -> None:
    # Regression: FastAPI read and parsed a body of any size before the API key was even looked at, so
    # anyone could make the API hold and parse gigabytes.
    response = client.request(method, url(path), content=_padded(OVERSIZED), headers=JSON)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_an_oversized_body_streamed_without_a_length_is_refused(
    client: TestClient, lonely: Tenant, method, path
) -> None:
    response = client.request(
        method, url(path), content=_chunks(_padded(OVERSIZED)), headers={**JSON, **lonely.headers}
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_large"


def test_an_oversized_body_over_real_http_is_a_413(served_api: Api) -> None:
    # uvicorn answers the early 413 while the client is still sending; nothing is read or parsed.
    response = httpx.put(served_api.base_url + url("/config"), content=_padded(OVERSIZED), headers=JSON)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"


def test_the_largest_legitimate_mapping_set_fits(client: TestClient, lonely: Tenant) -> None:
    # 500 mappings with every field at its longest: refused for its content (no HubSpot connection here),
    # never for its size.
    mapping = {
        "coldcopy_field": "c" * 200,
        "hubspot_property": "h" * 200,
        "transform_function": "t" * 2000,
        "direction": "bidirectional",
        "object_type": "company",
        "conflict_policy": "coldcopy_wins",
    }
    response = client.post(url("/mappings"), json={"mappings": [mapping] * 500}, headers=lonely.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_connected"


BROKEN_BODIES = {
    "nested past the recursion limit": (b"[" * 100_000 + b"]" * 100_000, 400),
    "nested just under it": (b'{"enabled": ' + b"[" * 900 + b"]" * 900 + b"}", 422),
    "a number of 5,000 digits": (b'{"enabled": ' + b"9" * 5000 + b"}", 400),
    "a number past a float's range": (b'{"enabled": 1e999}', 422),
    "NaN": (b'{"enabled": NaN}', 422),
    "bytes that are not UTF-8": (b'{"enabled": "\xff\xfe"}', 400),
    "a NUL": (b'{"enabled": "\\u0000"}', 422),
    "an unpaired surrogate": (b'{"schedule_cron": "\\ud800"}', 422),
}


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("case", sorted(BROKEN_BODIES))
def test_a_body_built_to_break_the_json_parser_is_a_4xx(
    client: TestClient, lonely: Tenant, method, path, case: str
) -> None:
    body, status = BROKEN_BODIES[case]
    response = client.request(method, url(path), content=body, headers={**JSON, **lonely.headers})
    assert response.status_code in (status, 409), response.text  # 409: /mappings and /sync, not connected
    assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    "oversized",
    [
        {"headers": {"X-Padding": "x" * 1_000_000}},
        {"headers": {f"X-Padding-{n}": "x" for n in range(4_000)}},
        {"headers": {"X-Padding": "x" * 60_000}},
        {"params": {"padding": "x" * 60_000}},
    ],
    ids=["a 1 MB header", "4,000 headers", "a 60 KB header", "a 60 KB query string"],
)
def test_an_oversized_request_head_is_refused(served_api: Api, oversized) -> None:
    # Regression: `serve` ran uvicorn's httptools parser, which buffers a request line and headers of any
    # size (a 20 MB header was answered 200), and Starlette then parsed every query parameter. Now h11 stops
    # reading a head past 16 KiB (the client sees the connection close, or a 400), and the app answers 431
    # for one that arrived whole.
    try:
        response = httpx.get(served_api.base_url + url("/config"), **oversized, timeout=30)
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        return
    assert response.status_code in (400, 431), response.text


def test_a_request_head_over_16_kib_is_a_431_in_the_apis_error_shape(client: TestClient) -> None:
    response = client.get(url("/health"), params={"padding": "x" * 20_000})
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "request_head_too_large"
