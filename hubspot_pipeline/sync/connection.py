"""A HubSpot client for a workspace: its OAuth tokens (refreshed as needed) or, for the sandbox, tests and
benchmarks, a private-app token; always on the portal's shared PostgreSQL rate-limit budget."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_integrations
from hubspot_pipeline.hubspot import (
    HubSpotAuthError,
    HubSpotClient,
    OAuthApp,
    OAuthTokens,
    PostgresRateLimiter,
    PrivateAppToken,
    TokenCipher,
    TokenStore,
)


def workspace_hub_id(engine: sa.Engine, workspace_id: uuid.UUID) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_integrations.c.hub_id).where(
                hubspot_integrations.c.workspace_id == workspace_id
            )
        ).scalar_one_or_none()


def workspace_client(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    *,
    base_url: str | None = None,
    private_app_token: str | None = None,
    max_concurrency: int = 8,
) -> HubSpotClient:
    """The client a sync run of this workspace uses. The caller closes it."""
    hub_id = workspace_hub_id(engine, workspace_id)
    if private_app_token:
        app_base = base_url or OAuthApp.from_settings().api_base_url
        limiter = PostgresRateLimiter(engine, portal_key=f"hub:{hub_id or 'private-app'}")
        return HubSpotClient(
            app_base,
            auth=PrivateAppToken(private_app_token),
            limiter=limiter,
            max_concurrency=max_concurrency,
        )
    if hub_id is None:
        raise HubSpotAuthError(
            f"workspace {workspace_id} is not connected to HubSpot; connect it with "
            "GET /api/integrations/hubspot/auth, then the sync runs"
        )
    app = OAuthApp.from_settings(api_base_url=base_url)
    tokens = OAuthTokens(TokenStore(engine, TokenCipher.from_settings()), workspace_id, app)
    return HubSpotClient(
        app.api_base_url,
        auth=tokens,
        limiter=PostgresRateLimiter(engine, portal_key=f"hub:{hub_id}"),
        max_concurrency=max_concurrency,
    )
