"""Fixtures for the API tests: the app on the session's test database, an HTTP client, and two tenants
(workspaces with an API key and a connected portal)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from api_support import (
    Api,
    Tenant,
    connect_over_http,
    free_port,
    make_tenant,
    new_hub_id,
    point_webhooks_at,
    start_api,
    stop_api,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hubspot_pipeline.api.app import create_app
from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings


@pytest.fixture(scope="session")
def app(engine: sa.Engine) -> FastAPI:
    return create_app(engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def tenant(engine: sa.Engine) -> Tenant:
    return make_tenant(engine)


@pytest.fixture
def other_tenant(engine: sa.Engine) -> Tenant:
    return make_tenant(engine)


@pytest.fixture
def sandbox_api(hubspot_sandbox: SandboxHandle) -> Iterator[SandboxHandle]:  # noqa: F811
    """The sandbox as this deployment's HubSpot: HUBSPOT_API_BASE_URL points at it for the test."""
    previous = os.environ.get("HUBSPOT_API_BASE_URL")
    os.environ["HUBSPOT_API_BASE_URL"] = hubspot_sandbox.base_url
    get_settings.cache_clear()
    try:
        yield hubspot_sandbox
    finally:
        if previous is None:
            os.environ.pop("HUBSPOT_API_BASE_URL", None)
        else:
            os.environ["HUBSPOT_API_BASE_URL"] = previous
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def served_api(hubspot_sandbox_server: SandboxHandle, database_url: str) -> Iterator[Api]:  # noqa: F811
    """`hubspot-pipeline serve` in its own process, its HubSpot the session's sandbox."""
    port = free_port()
    process = start_api(
        port,
        env={
            "HUBSPOT_API_BASE_URL": hubspot_sandbox_server.base_url,
            "HUBSPOT_DEVELOPER_API_KEY": hubspot_sandbox_server.developer_api_key,
        },
    )
    try:
        yield Api(f"http://127.0.0.1:{port}")
    finally:
        stop_api(process)


@pytest.fixture
def webhook_tenant(
    engine: sa.Engine,
    served_api: Api,
    hubspot_sandbox: SandboxHandle,  # noqa: F811
) -> tuple[Tenant, int]:
    """A workspace connected over HTTP to a new sandbox portal whose webhooks go to `served_api`."""
    tenant = make_tenant(engine, connected=False)
    hub_id, _ = hubspot_sandbox.admin.add_portal(new_hub_id())
    connect_over_http(served_api, tenant, hub_id)
    point_webhooks_at(hubspot_sandbox, served_api.webhook_url)
    return tenant, hub_id
