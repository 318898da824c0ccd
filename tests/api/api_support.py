"""Helpers of the API tests: workspaces with API keys and, where needed, a connected HubSpot portal."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from hubspot_pipeline.api import keys
from hubspot_pipeline.api.app import PREFIX
from hubspot_pipeline.db.tables import hubspot_integrations, workspaces

_hub_ids = itertools.count(700_000_000 + uuid.uuid4().int % 1_000_000 * 100)


@dataclass
class Tenant:
    workspace_id: uuid.UUID
    key: str
    hub_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def new_workspace(engine: sa.Engine) -> uuid.UUID:
    slug = f"ws-{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(workspaces).values(name=f"Test {slug}", slug=slug).returning(workspaces.c.id)
        ).scalar_one()


def connect_portal(engine: sa.Engine, workspace_id: uuid.UUID, hub_id: int) -> None:
    """Record a HubSpot connection the way the OAuth callback leaves it (ciphertext stands in for tokens)."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id,
                hub_id=str(hub_id),
                access_token="gAAAAA-ciphertext-access",
                refresh_token="gAAAAA-ciphertext-refresh",
                scopes=["oauth", "crm.objects.contacts.read"],
            )
        )


def new_hub_id() -> int:
    """A portal id no other test uses (the database outlives the sandbox's per-test reset)."""
    return next(_hub_ids)


def make_tenant(engine: sa.Engine, *, connected: bool = True) -> Tenant:
    workspace_id = new_workspace(engine)
    with engine.begin() as conn:
        key = keys.issue_key(conn, workspace_id, "test").key
    hub_id = new_hub_id()
    if connected:
        connect_portal(engine, workspace_id, hub_id)
    return Tenant(workspace_id=workspace_id, key=key, hub_id=hub_id)


def url(path: str) -> str:
    return f"{PREFIX}{path}"
