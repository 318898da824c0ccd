"""Pytest fixtures for tests that talk to the sandbox. In a conftest.py:

    from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401

`hubspot_sandbox` is one server per test session, reset to its starting options before each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle, run_sandbox


@pytest.fixture(scope="session")
def hubspot_sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def hubspot_sandbox(hubspot_sandbox_server: SandboxHandle) -> SandboxHandle:
    hubspot_sandbox_server.restore()
    return hubspot_sandbox_server
