"""`contact_sync`: the database and a HubSpot client per workspace, for the contact sync assets."""

from __future__ import annotations

import uuid

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.hubspot import HubSpotClient


class ContactSyncResource(dg.ConfigurableResource):
    """Unset fields mean production: DATABASE_URL (or the embedded PostgreSQL) and each workspace's OAuth
    connection. `private_app_token` + `hubspot_base_url` point every workspace at one portal (sandbox, tests)."""

    database_url: str | None = None
    hubspot_base_url: str | None = None
    private_app_token: str | None = None
    # Search sees writes seconds late; records newer than this are read by the next run.
    search_lag_seconds: float = 30.0
    max_concurrency: int = 8

    def engine(self) -> sa.Engine:
        from hubspot_pipeline.db.connection import get_engine

        return get_engine(self.database_url)

    def client(self, workspace_id: uuid.UUID) -> HubSpotClient:
        from hubspot_pipeline.sync.connection import workspace_client

        return workspace_client(
            self.engine(),
            workspace_id,
            base_url=self.hubspot_base_url,
            private_app_token=self.private_app_token,
            max_concurrency=self.max_concurrency,
        )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"contact_sync": ContactSyncResource()})
