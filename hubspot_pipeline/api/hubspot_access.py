"""The API's way to HubSpot: a client for a workspace's connection, and HubSpot errors turned into answers
the caller can act on. Tokens stay inside the client; no response ever carries one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.db.tables import hubspot_integrations
from hubspot_pipeline.hubspot import (
    HubSpotAuthError,
    HubSpotClient,
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotValidationError,
    TokenCipher,
    TokenStore,
)


def token_store(engine: sa.Engine) -> TokenStore:
    return TokenStore(engine, TokenCipher.from_settings())


def connected_hub_id(engine: sa.Engine, workspace_id: uuid.UUID) -> str:
    with engine.connect() as conn:
        hub_id = conn.execute(
            sa.select(hubspot_integrations.c.hub_id).where(
                hubspot_integrations.c.workspace_id == workspace_id,
                hubspot_integrations.c.refresh_token.is_not(None),
            )
        ).scalar_one_or_none()
    if hub_id is None:
        raise ApiError(
            409,
            "not_connected",
            "This workspace is not connected to HubSpot; connect it first with GET /api/integrations/hubspot/auth.",
        )
    return hub_id


@contextmanager
def workspace_client(engine: sa.Engine, workspace_id: uuid.UUID) -> Iterator[HubSpotClient]:
    """A client on the workspace's OAuth tokens, sharing the portal's rate-limit budget with the sync."""
    from hubspot_pipeline.sync.connection import workspace_client as sync_workspace_client

    connected_hub_id(engine, workspace_id)  # a clear 409 when the workspace has no connection
    with translated_errors():
        client = sync_workspace_client(engine, workspace_id)
    try:
        with translated_errors():
            yield client
    finally:
        client.close()
        # The API's own HubSpot calls count in /metrics like the runs' (once per request, not per call).
        from hubspot_pipeline.monitoring.runs import record_client_calls

        record_client_calls(engine, client.metrics)


@contextmanager
def translated_errors() -> Iterator[None]:
    """HubSpot failures as API errors: the message (already free of tokens) says what to do."""
    try:
        yield
    except HubSpotAuthError as error:
        raise ApiError(409, "hubspot_auth", error.message) from None
    except HubSpotRateLimitError as error:
        raise ApiError(503, "hubspot_rate_limited", f"{error.message}; retry in a minute") from None
    except HubSpotValidationError as error:
        raise ApiError(502, "hubspot_refused", error.message) from None
    except HubSpotError as error:
        raise ApiError(502, "hubspot_unavailable", f"{error.message}; retry later") from None
