"""Sandbox tests run against a real sandbox server over HTTP (one per session, reset before each test).
Other test packages can reuse the fixtures the same way:

    from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from hubspot_pipeline.sandbox.testing import SandboxHandle


@pytest.fixture
def api(hubspot_sandbox: SandboxHandle) -> Iterator[httpx.Client]:  # noqa: F811
    """An HTTP client for the sandbox's HubSpot API, authenticated with the portal's private-app token."""
    with httpx.Client(
        base_url=hubspot_sandbox.base_url, headers=hubspot_sandbox.auth_headers(), timeout=30
    ) as client:
        yield client
