"""The daily cap against the sandbox: once HubSpot answers 429 DAILY, the client raises
HubSpotRateLimitError with the reset time, and every client of the portal stops before calling HubSpot."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.hubspot import (
    HubSpotClient,
    HubSpotRateLimitError,
    PostgresRateLimiter,
    PrivateAppToken,
)
from hubspot_pipeline.sandbox.testing import SandboxHandle


def test_a_daily_429_stops_every_client_of_the_portal_until_the_reset(
    hubspot_sandbox: SandboxHandle, engine: sa.Engine
) -> None:
    hubspot_sandbox.admin.configure(daily_limit=5)
    token = PrivateAppToken(hubspot_sandbox.private_app_token)
    learned = PostgresRateLimiter(engine, f"test:{uuid.uuid4()}")
    with HubSpotClient(hubspot_sandbox.base_url, token, limiter=learned) as client:
        for _ in range(5):
            client.list_properties("contacts")
        # The limiter learned the cap from X-HubSpot-RateLimit-Daily(-Remaining): refused before calling.
        with pytest.raises(HubSpotRateLimitError, match="resume"):
            client.list_properties("contacts")
    assert hubspot_sandbox.admin.counters()["total"] == 5

    # A limiter that knows nothing yet (its first call): HubSpot's 429 DAILY is raised, not retried...
    fresh = PostgresRateLimiter(engine, f"test:{uuid.uuid4()}")
    with HubSpotClient(hubspot_sandbox.base_url, token, limiter=fresh) as client:
        with pytest.raises(HubSpotRateLimitError) as caught:
            client.get("contacts", "1")
        assert caught.value.policy == "DAILY" and caught.value.retry_at is not None
        assert hubspot_sandbox.admin.counters()["byStatus"]["429"] == 1
        # ...and blocks the portal: the next call does not reach HubSpot.
        with pytest.raises(HubSpotRateLimitError, match="resume"):
            client.get("contacts", "1")
    assert hubspot_sandbox.admin.counters()["byStatus"]["429"] == 1
