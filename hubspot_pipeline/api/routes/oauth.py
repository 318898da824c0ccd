"""GET /auth, GET /callback, POST /disconnect: connecting a workspace to its HubSpot portal and back."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hubspot_pipeline.api import audit
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.hubspot_access import token_store, translated_errors
from hubspot_pipeline.api.partitions import add_workspace_partition
from hubspot_pipeline.db.tables import hubspot_integrations, oauth_states
from hubspot_pipeline.hubspot import HubSpotAuthError, HubSpotError, OAuthApp, consume_state, issue_state

router = APIRouter(tags=["connection"])
STALE_STATES = timedelta(days=1)
# Every state issue_state makes is URL-safe ASCII (`<nonce>.<hmac>`); anything else is refused before the
# database sees it (a NUL in it made psycopg raise).
STATE_CHARACTERS = re.compile(r"[A-Za-z0-9_.\-]{1,512}")


class AuthorizeUrl(BaseModel):
    authorize_url: str = Field(description="Send the user's browser here to approve the app.")


class Connected(BaseModel):
    connected: bool
    workspace_id: uuid.UUID
    hub_id: str
    scopes: list[str]


class Disconnected(BaseModel):
    connected: bool
    workspace_id: uuid.UUID
    refresh_token_revoked: bool = Field(description="False when HubSpot could not be reached to revoke it.")
    message: str


@router.get(
    "/auth",
    summary="Start connecting HubSpot: redirects to HubSpot's authorize page",
    responses={307: {"description": "Redirect to HubSpot"}, 200: {"model": AuthorizeUrl}},
    response_model=None,
)
def auth(
    caller: CallerDep,
    engine: EngineDep,
    redirect: Annotated[
        bool, Query(description="false: answer the URL as JSON instead of redirecting")
    ] = True,
) -> RedirectResponse | AuthorizeUrl:
    with engine.begin() as conn:
        # Expired states are useless (consume_state refuses them); keep the table small.
        conn.execute(sa.delete(oauth_states).where(oauth_states.c.expires_at < sa.func.now() - STALE_STATES))
    state = issue_state(engine, caller.workspace_id)
    app = OAuthApp.from_settings()
    try:
        url = app.authorize_url(state)
    finally:
        app.close()
    with engine.begin() as conn:
        audit.record(conn, workspace_id=caller.workspace_id, actor=caller.actor, action="oauth.start")
    return RedirectResponse(url, status_code=307) if redirect else AuthorizeUrl(authorize_url=url)


def _hub_of_other_workspace(conn: sa.Connection, hub_id: str, workspace_id: uuid.UUID) -> uuid.UUID | None:
    return conn.execute(
        sa.select(hubspot_integrations.c.workspace_id)
        .where(
            hubspot_integrations.c.hub_id == hub_id,
            hubspot_integrations.c.workspace_id != workspace_id,
            hubspot_integrations.c.refresh_token.is_not(None),
        )
        .limit(1)
    ).scalar_one_or_none()


def complete_connection(engine: sa.Engine, code: str, state: str) -> Connected:
    """The OAuth callback's work: check the state, exchange the code, store the tokens encrypted, record the
    hub id, and add the workspace to the sync partitions (also used by `demo` and `dev`)."""
    if STATE_CHARACTERS.fullmatch(state) is None:
        raise ApiError(
            400,
            "invalid_state",
            "The OAuth callback's state is not one this API issued; start the HubSpot connection again",
        )
    try:
        workspace_id = consume_state(engine, state)
    except HubSpotAuthError as error:
        raise ApiError(400, "invalid_state", error.message) from None
    app = OAuthApp.from_settings()
    try:
        with translated_errors():
            tokens = app.exchange_code(code)
            hub_id = tokens.hub_id or app.token_info(tokens.access_token).hub_id
        with engine.begin() as conn:
            if _hub_of_other_workspace(conn, hub_id, workspace_id) is not None:
                with translated_errors():
                    app.revoke(tokens.refresh_token)
                raise ApiError(
                    409,
                    "portal_taken",
                    f"HubSpot portal {hub_id} is already connected to another workspace; disconnect it there "
                    "first, or approve the app for another portal.",
                )
            token_store(engine).save(workspace_id, tokens, conn)
            conn.execute(
                sa.update(hubspot_integrations)
                .where(hubspot_integrations.c.workspace_id == workspace_id)
                .values(hub_id=hub_id)
            )
            audit.record(
                conn,
                workspace_id=workspace_id,
                actor="oauth-callback",
                action="oauth.connected",
                target=f"portal:{hub_id}",
                details={"scopes": list(tokens.scopes)},
            )
    finally:
        app.close()
    add_workspace_partition(engine, workspace_id)
    return Connected(connected=True, workspace_id=workspace_id, hub_id=hub_id, scopes=list(tokens.scopes))


@router.get(
    "/callback",
    response_model=Connected,
    summary="HubSpot redirects here after approval (authenticated by the OAuth state, not an API key)",
)
async def callback(
    engine: EngineDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=512)] = None,
    error_description: Annotated[str | None, Query(max_length=2048)] = None,
) -> Connected | JSONResponse:
    if error is not None:
        raise ApiError(
            400,
            "hubspot_denied",
            f"HubSpot did not grant access ({error}: {error_description or 'no description'}); start again from "
            "GET /auth and approve the app.",
        )
    if not code or not state:
        raise ApiError(
            400, "missing_code", "The callback needs `code` and `state` from HubSpot; start from GET /auth."
        )
    return await run_in_threadpool(complete_connection, engine, code, state)


@router.post("/disconnect", response_model=Disconnected, summary="Revoke and delete the tokens; stop syncing")
def disconnect(caller: CallerDep, engine: EngineDep) -> Disconnected:
    store = token_store(engine)
    try:
        tokens = store.load(caller.workspace_id)
    except HubSpotAuthError:
        raise ApiError(
            409, "not_connected", "This workspace is not connected to HubSpot; nothing to disconnect."
        ) from None
    app = OAuthApp.from_settings()
    revoked, message = (
        True,
        "Disconnected: the refresh token was revoked and the tokens deleted; sync history is kept.",
    )
    try:
        app.revoke(tokens.refresh_token)
    except HubSpotError as error:
        revoked = False
        message = (
            f"Disconnected: the tokens were deleted, but HubSpot could not revoke the refresh token ({error.message}); "
            "uninstall the app in HubSpot to be sure."
        )
    finally:
        app.close()
    store.delete_tokens(caller.workspace_id)
    with engine.begin() as conn:
        audit.record(
            conn,
            workspace_id=caller.workspace_id,
            actor=caller.actor,
            action="oauth.disconnect",
            details={"refresh_token_revoked": revoked},
        )
    return Disconnected(
        connected=False, workspace_id=caller.workspace_id, refresh_token_revoked=revoked, message=message
    )
