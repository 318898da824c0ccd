"""Fixtures of the Dagster tests: the sandbox over HTTP, and the project's definitions with their resources
pointed at the test database and the sandbox (one private-app token for every workspace)."""

from __future__ import annotations

import uuid

import dagster as dg
import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_integrations, leads, workspaces
from hubspot_pipeline.defs.contacts import assets, jobs, schedules, sensors
from hubspot_pipeline.defs.contacts.resources import ContactSyncRun
from hubspot_pipeline.defs.workspaces import sensors as workspace_sensors
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from hubspot_pipeline.sandbox.testing import SandboxHandle


def sync_resources(database_url: str, sandbox: SandboxHandle) -> dict[str, object]:
    settings = SyncSettingsResource(
        database_url=database_url,
        hubspot_api_base_url=sandbox.base_url,
        private_app_token=sandbox.private_app_token,
        search_lag_seconds=-3,
    )
    return {"sync_settings": settings, "contact_sync_run": ContactSyncRun(settings=settings)}


@pytest.fixture
def resources(database_url: str, hubspot_sandbox: SandboxHandle) -> dict[str, object]:  # noqa: F811
    return sync_resources(database_url, hubspot_sandbox)


@pytest.fixture
def contact_defs(resources: dict[str, object]) -> dg.Definitions:
    return dg.Definitions.merge(
        assets.defs(),
        jobs.defs(),
        sensors.defs(),
        schedules.defs(),
        workspace_sensors.defs(),
        dg.Definitions(resources=resources),
    )


@pytest.fixture
def slug(engine: sa.Engine, workspace_id: uuid.UUID) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(workspaces.c.slug).where(workspaces.c.id == workspace_id)).scalar_one()


def add_leads(engine: sa.Engine, workspace_id: uuid.UUID, count: int, prefix: str = "lead") -> list[str]:
    emails = [f"{prefix}{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(count)]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(leads),
            [{"workspace_id": workspace_id, "email": e, "first_name": f"F{i}"} for i, e in enumerate(emails)],
        )
    return emails


def connect(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    """Record a HubSpot connection as the OAuth callback leaves it (ciphertext stands in for tokens)."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id, hub_id=str(uuid.uuid4().int % 10**9), refresh_token="ciphertext"
            )
        )
