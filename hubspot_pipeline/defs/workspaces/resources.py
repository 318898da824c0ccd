"""`sync_settings`: where runs, sensors and schedules find the database and HubSpot. Its values come from
settings.py when the code location loads; secrets (the database password, OAuth app secret, token keys) are
never part of it, so the UI and Dagster's storage never hold them: code reads those from settings.py."""

import uuid
from typing import Self

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.settings import Settings, get_settings


class SyncSettingsResource(dg.ConfigurableResource):
    """Where runs, sensors and schedules find HubSpot and the database: the project's settings (settings.py,
    read when the code location loads). The database URL and every secret stay out of this config."""

    hubspot_api_base_url: str | None = Field(
        None, description="HUBSPOT_API_BASE_URL: the HubSpot API runs call (unset: the local sandbox)."
    )
    # Search sees writes seconds late; records newer than this are read by the next run.
    search_lag_seconds: float = Field(30.0, description="How far behind HubSpot's clock search reads.")
    max_concurrency: int = Field(8, description="HubSpot calls in flight per run (within the portal budget).")
    database_url: str | None = Field(
        None, description="Override of DATABASE_URL (tests); unset: settings.py's, never shown here."
    )
    private_app_token: str | None = Field(
        None,
        description="Override: one private-app token for every workspace (tests, benchmarks); unset: OAuth.",
        json_schema_extra={"dagster__is_secret": True},
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        base_url = settings.hubspot_api_base_url
        return cls(hubspot_api_base_url=str(base_url).rstrip("/") if base_url else None)

    def engine(self) -> sa.Engine:
        from hubspot_pipeline.db.connection import get_engine

        return get_engine(self.database_url)

    def client(self, workspace_id: uuid.UUID) -> HubSpotClient:
        """The workspace's HubSpot client; the caller closes it."""
        from hubspot_pipeline.sync.connection import workspace_client

        return workspace_client(
            self.engine(),
            workspace_id,
            base_url=self.hubspot_api_base_url,
            private_app_token=self.private_app_token,
            max_concurrency=self.max_concurrency,
        )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"sync_settings": SyncSettingsResource.from_settings(get_settings())})
