"""Fixtures of the sync tests: the sandbox over HTTP (hubspot_sandbox, reset before each test) and a client
on it that shares the portal's rate-limit budget through PostgreSQL, as a real run does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken, RetryPolicy
from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from hubspot_pipeline.sandbox.testing import SandboxHandle


@pytest.fixture
def hubspot_client(hubspot_sandbox: SandboxHandle, engine: sa.Engine) -> Iterator[HubSpotClient]:  # noqa: F811
    limiter = PostgresRateLimiter(
        engine, portal_key=f"test-hub:{hubspot_sandbox.hub_id}:{id(hubspot_sandbox)}"
    )
    client = HubSpotClient(
        hubspot_sandbox.base_url,
        auth=PrivateAppToken(hubspot_sandbox.private_app_token),
        limiter=limiter,
        retry=RetryPolicy(),
    )
    yield client
    client.close()
