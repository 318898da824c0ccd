"""The limiter against the sandbox with latency: calls that spend 150-250 ms in flight, twelve at a time, and
a budget spent one and a half times over. With the 50 ms guard and each call logged at its answer, the
sandbox (which counts a request after its latency, as late as HubSpot might) sees no 10-second window over the
limit and answers no 429."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken
from hubspot_pipeline.sandbox.testing import SandboxHandle

CALLS = 150  # a window and a half of the free profile's 100


@pytest.mark.slow
def test_calls_with_latency_never_exceed_the_sandbox_window(
    hubspot_sandbox: SandboxHandle, engine: sa.Engine
) -> None:
    admin = hubspot_sandbox.admin
    hub = hubspot_sandbox.hub_id
    admin.configure(faults={"latency_ms": 150, "jitter_ms": 100})
    try:
        limiter = PostgresRateLimiter(engine, f"hub:{hub}:{uuid.uuid4().hex[:8]}", per_ten_seconds=100)
        client = HubSpotClient(
            hubspot_sandbox.base_url,
            PrivateAppToken(hubspot_sandbox.private_app_token),
            limiter=limiter,
            max_concurrency=12,
        )
        with ThreadPoolExecutor(12) as pool:
            pages = list(pool.map(lambda _: next(client.list_pages("contacts", page_size=1)), range(CALLS)))
    finally:
        admin.configure(faults={"latency_ms": 0, "jitter_ms": 0})
    windows = admin.rate_windows(hub_id=hub, window_ms=10_000, limit=100)
    assert len(pages) == CALLS
    assert windows["attempts"] == CALLS
    assert windows["attemptsOverLimit"] == 0 and windows["maxAttemptsInWindow"] <= 100
    assert admin.counters(hub)["byStatus"].get("429", 0) == 0
