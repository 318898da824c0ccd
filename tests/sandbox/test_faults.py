"""Seeded fault injection: the same seed gives the same faults; 429/5xx bodies; timeouts and dropped
connections as a client sees them; /_sandbox is never faulted; faults are counted."""

from __future__ import annotations

import httpx
import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle, run_sandbox
from tests.polling import wait_until

CONTACTS = "/crm/v3/objects/contacts"


def _statuses(sandbox: SandboxHandle, count: int) -> list[int]:
    with httpx.Client(base_url=sandbox.base_url, headers=sandbox.auth_headers()) as client:
        return [client.get(CONTACTS).status_code for _ in range(count)]


def test_the_same_seed_gives_the_same_faults() -> None:
    faults = {"error_500": 0.2, "error_502": 0.1, "error_503": 0.1, "rate_limit_429": 0.1}
    runs = []
    for _ in range(2):
        with run_sandbox(seed=7, faults=faults, rate_limits_enabled=False) as sandbox:
            runs.append(_statuses(sandbox, 60))
    assert runs[0] == runs[1]
    assert {200, 429, 500, 502, 503} <= set(runs[0])
    with run_sandbox(seed=8, faults=faults, rate_limits_enabled=False) as sandbox:
        assert _statuses(sandbox, 60) != runs[0]


def test_fault_bodies_and_counters(hubspot_sandbox: SandboxHandle) -> None:
    hubspot_sandbox.admin.configure(faults={"error_503": 1.0})
    response = httpx.get(hubspot_sandbox.base_url + CONTACTS, headers=hubspot_sandbox.auth_headers())
    assert response.status_code == 503
    assert hubspot_sandbox.admin.calls("GET /crm/v3/objects/contacts", 503) == 1
    hubspot_sandbox.admin.configure(faults={"error_503": 0.0, "rate_limit_429": 1.0})
    limited = httpx.get(hubspot_sandbox.base_url + CONTACTS, headers=hubspot_sandbox.auth_headers())
    assert limited.status_code == 429 and limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert httpx.get(hubspot_sandbox.base_url + "/_sandbox/health").status_code == 200  # never faulted


def test_a_timeout_fault_outlasts_the_client(hubspot_sandbox: SandboxHandle) -> None:
    hubspot_sandbox.admin.configure(faults={"timeout": 1.0, "timeout_seconds": 2.0})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(hubspot_sandbox.base_url + CONTACTS, headers=hubspot_sandbox.auth_headers(), timeout=0.2)


def test_a_dropped_connection_breaks_the_response(hubspot_sandbox: SandboxHandle) -> None:
    hubspot_sandbox.admin.configure(faults={"drop_connection": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(hubspot_sandbox.base_url + CONTACTS, headers=hubspot_sandbox.auth_headers())
    hubspot_sandbox.admin.configure(faults={"drop_connection": 0.0})
    assert (
        httpx.get(hubspot_sandbox.base_url + CONTACTS, headers=hubspot_sandbox.auth_headers()).status_code
        == 200
    )


def test_latency_is_added_and_seeded_jitter_stays_in_range(hubspot_sandbox: SandboxHandle) -> None:
    # Behaviour, not wall time: the fault plan of every request is recorded in the planner's draws.
    import random

    from hubspot_pipeline.sandbox.faults import plan_fault
    from hubspot_pipeline.sandbox.options import FaultOptions

    options = FaultOptions(latency_ms=100, jitter_ms=50)
    delays = [plan_fault(options, random.Random(3)).delay_seconds for _ in range(5)]
    assert len(set(delays)) == 1 and 0.1 <= delays[0] <= 0.15
    rng = random.Random(3)
    spread = {plan_fault(options, rng).delay_seconds for _ in range(50)}
    assert len(spread) > 40 and all(0.1 <= d <= 0.15 for d in spread)


def test_a_write_can_be_applied_and_then_answered_with_a_gateway_error(
    hubspot_sandbox: SandboxHandle,
) -> None:
    hubspot_sandbox.admin.configure(faults={"error_after_write": 1.0})
    with httpx.Client(base_url=hubspot_sandbox.base_url, headers=hubspot_sandbox.auth_headers()) as client:
        created = client.post(CONTACTS, json={"properties": {"email": "late@example.com"}})
        assert created.status_code in (502, 504) and created.headers["content-type"].startswith("text/html")
        found = client.get(f"{CONTACTS}/late@example.com", params={"idProperty": "email"})
        assert found.status_code == 200  # reads are never answered late; the write happened
        refused = client.post(CONTACTS, json={"properties": {"email": "late@example.com"}})
        assert refused.status_code == 409  # a refused write is answered as it is: nothing was applied
    assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts") == 2


def test_a_held_endpoint_keeps_its_requests_in_flight_until_released(hubspot_sandbox: SandboxHandle) -> None:
    """A test's way to have calls in flight for as long as it needs, whatever the machine's load: requests to
    a held endpoint wait, before they are handled, until it leaves the list; the rest are answered."""
    from concurrent.futures import ThreadPoolExecutor

    endpoint = "POST /crm/v3/objects/contacts"
    hubspot_sandbox.admin.configure(faults={"hold": [endpoint]})
    with (
        httpx.Client(base_url=hubspot_sandbox.base_url, headers=hubspot_sandbox.auth_headers()) as client,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        pending = [
            pool.submit(client.post, CONTACTS, json={"properties": {"email": f"held{n}@example.com"}})
            for n in range(2)
        ]
        wait_until("both requests held", lambda: hubspot_sandbox.admin.held(endpoint) == 2, 10, 0.01)
        assert client.get(CONTACTS).status_code == 200  # other endpoints go on
        assert client.get(f"{CONTACTS}/held0@example.com", params={"idProperty": "email"}).status_code == 404
        assert not any(future.done() for future in pending) and hubspot_sandbox.admin.calls(endpoint) == 0

        hubspot_sandbox.admin.configure(faults={"hold": []})
        assert [future.result(timeout=30).status_code for future in pending] == [201, 201]
    assert hubspot_sandbox.admin.held(endpoint) == 0 and hubspot_sandbox.admin.calls(endpoint, 201) == 2
