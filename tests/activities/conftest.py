"""Fixtures of the activity tests: the sandbox over HTTP as this deployment's HubSpot, a workspace connected
to a portal of its own through the real OAuth flow (timeline events need an app's OAuth token), or a
private-app client on the sandbox's portal (which HubSpot refuses timeline events)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from hubspot_pipeline.activities.templates import DeveloperCredentials
from hubspot_pipeline.db.tables import hubspot_event_templates, hubspot_integrations
from hubspot_pipeline.hubspot import HubSpotClient, OAuthApp, PostgresRateLimiter, PrivateAppToken
from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings

_hub_ids = itertools.count(800_000_000 + uuid.uuid4().int % 1_000_000 * 100)


@dataclass
class Portal:
    workspace_id: uuid.UUID
    hub_id: int
    client: HubSpotClient
    developer: DeveloperCredentials
    sandbox: SandboxHandle


@pytest.fixture(autouse=True)
def _a_new_app(engine: sa.Engine) -> None:
    # Each test's sandbox is a fresh HubSpot app: the templates stored for the previous one do not exist.
    with engine.begin() as conn:
        conn.execute(sa.delete(hubspot_event_templates))


@pytest.fixture
def sandbox_hubspot(hubspot_sandbox: SandboxHandle) -> Iterator[SandboxHandle]:  # noqa: F811
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


def developer_of(sandbox: SandboxHandle) -> DeveloperCredentials:
    return DeveloperCredentials(sandbox.base_url, sandbox.app_id, sandbox.developer_api_key)


def connect(engine: sa.Engine, sandbox: SandboxHandle, workspace_id: uuid.UUID) -> int:
    from hubspot_pipeline.demo.hubspot_side import connect_workspace

    hub_id, _ = sandbox.admin.add_portal(next(_hub_ids))
    app = OAuthApp.from_settings(api_base_url=sandbox.base_url)
    try:
        connect_workspace(engine, app, workspace_id, hub_id)
    finally:
        app.close()
    return hub_id


@pytest.fixture
def oauth_portal(
    engine: sa.Engine, sandbox_hubspot: SandboxHandle, workspace_id: uuid.UUID
) -> Iterator[Portal]:
    from hubspot_pipeline.sync.connection import workspace_client

    hub_id = connect(engine, sandbox_hubspot, workspace_id)
    client = workspace_client(engine, workspace_id, base_url=sandbox_hubspot.base_url)
    try:
        yield Portal(workspace_id, hub_id, client, developer_of(sandbox_hubspot), sandbox_hubspot)
    finally:
        client.close()


@pytest.fixture
def private_portal(
    engine: sa.Engine, sandbox_hubspot: SandboxHandle, workspace_id: uuid.UUID
) -> Iterator[Portal]:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id, hub_id=str(sandbox_hubspot.hub_id)
            )
        )
    client = HubSpotClient(
        sandbox_hubspot.base_url,
        auth=PrivateAppToken(sandbox_hubspot.private_app_token),
        limiter=PostgresRateLimiter(engine, portal_key=f"test-private:{workspace_id}"),
    )
    try:
        yield Portal(
            workspace_id, sandbox_hubspot.hub_id, client, developer_of(sandbox_hubspot), sandbox_hubspot
        )
    finally:
        client.close()
