"""Connecting a workspace to HubSpot through the API against the sandbox over HTTP: GET /auth, the
authorize redirect, GET /callback (state checked, code exchanged, tokens stored encrypted, hub id recorded),
POST /disconnect (refresh token revoked, tokens deleted). Tokens never appear in a response."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest
import sqlalchemy as sa
from api_support import Tenant, approve, make_tenant, new_hub_id, url
from fastapi.testclient import TestClient

from hubspot_pipeline.api.hubspot_access import token_store
from hubspot_pipeline.db.tables import audit_log, hubspot_integrations
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings


@pytest.fixture
def lonely(engine: sa.Engine) -> Tenant:
    return make_tenant(engine, connected=False)


def connect(client: TestClient, tenant: Tenant, sandbox: SandboxHandle) -> tuple[int, dict, list[str]]:
    """Connect `tenant` to a new sandbox portal; returns its hub id, the callback's body, all response texts."""
    hub_id, _ = sandbox.admin.add_portal(new_hub_id())
    start = client.get(url("/auth"), params={"redirect": "false"}, headers=tenant.headers)
    assert start.status_code == 200
    redirect = client.get(url("/auth"), headers=tenant.headers, follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"].startswith(
        sandbox.base_url + "/oauth/authorize"
    )
    query = approve(start.json()["authorize_url"], hub_id)
    callback = client.get(url("/callback"), params=query)
    assert callback.status_code == 200, callback.text
    return hub_id, callback.json(), [start.text, redirect.text, callback.text]


def test_connect_stores_encrypted_tokens_and_the_hub_id(client, engine, lonely: Tenant, sandbox_api) -> None:
    hub_id, body, responses = connect(client, lonely, sandbox_api)
    assert body["connected"] is True and body["hub_id"] == str(hub_id)
    assert "crm.objects.contacts.write" in body["scopes"]
    tokens = token_store(engine).load(lonely.workspace_id)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(hubspot_integrations).where(hubspot_integrations.c.workspace_id == lonely.workspace_id)
        ).one()
    assert row.hub_id == str(hub_id)
    assert tokens.access_token not in str(row) and tokens.refresh_token not in str(row)
    config = client.get(url("/config"), headers=lonely.headers)
    assert config.json()["connection"]["connected"] is True
    for text in [*responses, config.text]:
        assert tokens.access_token not in text and tokens.refresh_token not in text


def test_a_state_is_single_use_and_a_forged_one_is_refused(client, lonely: Tenant, sandbox_api) -> None:
    hub_id, _ = sandbox_api.admin.add_portal(new_hub_id())
    start = client.get(url("/auth"), params={"redirect": "false"}, headers=lonely.headers).json()
    query = approve(start["authorize_url"], hub_id)
    forged = client.get(url("/callback"), params={**query, "state": query["state"][:-4] + "AAAA"})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_state"
    assert client.get(url("/callback"), params=query).status_code == 200
    replay = client.get(url("/callback"), params=query)
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "invalid_state"


@pytest.mark.parametrize("state", ["nonce\x00.0123abcd", "\x00", "nonce.sig\x00", "é.abc", "a b.c"])
def test_a_state_we_could_not_have_issued_is_a_400(client, state: str) -> None:
    # Regression: a NUL in `state` reached the UPDATE of oauth_states, where psycopg refused it: a 500 whose
    # database error, quoting the state among the statement's parameters, went to the log.
    response = client.get(url("/callback"), params={"code": "a-code", "state": state})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_state"


def test_the_authorize_redirect_comes_from_configuration_whatever_the_request_says(
    client, lonely: Tenant, sandbox_api
) -> None:
    # Guard: the redirect target and the redirect_uri HubSpot sends the code to are settings; a caller's Host
    # or X-Forwarded-* headers change neither (or codes could be sent to a host of their choosing).
    forged = {
        "Host": "attacker.example",
        "X-Forwarded-Host": "attacker.example",
        "X-Forwarded-Proto": "https",
    }
    response = client.get(url("/auth"), headers={**lonely.headers, **forged}, follow_redirects=False)
    assert response.status_code == 307
    location = response.headers["location"]
    assert location.startswith(sandbox_api.base_url + "/oauth/authorize?") and "attacker" not in location
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["redirect_uri"] == str(get_settings().hubspot_redirect_uri)


def test_a_denied_approval_says_what_to_do(client) -> None:
    response = client.get(
        url("/callback"), params={"error": "access_denied", "error_description": "declined"}
    )
    assert response.status_code == 400
    assert "start again from GET /auth" in response.json()["error"]["message"]


def test_a_portal_connected_to_one_workspace_cannot_be_taken_by_another(client, engine, sandbox_api) -> None:
    first, second = make_tenant(engine, connected=False), make_tenant(engine, connected=False)
    hub_id, _, _ = connect(client, first, sandbox_api)
    start = client.get(url("/auth"), params={"redirect": "false"}, headers=second.headers).json()
    taken = client.get(url("/callback"), params=approve(start["authorize_url"], hub_id))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "portal_taken"


def test_disconnect_revokes_and_deletes_the_tokens_and_keeps_history(
    client, engine, lonely, sandbox_api
) -> None:
    connect(client, lonely, sandbox_api)
    tokens = token_store(engine).load(lonely.workspace_id)
    response = client.post(url("/disconnect"), headers=lonely.headers)
    assert response.status_code == 200
    assert response.json()["refresh_token_revoked"] is True
    assert tokens.refresh_token not in response.text
    refreshed = httpx.post(
        f"{sandbox_api.base_url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": sandbox_api.client_id,
            "client_secret": sandbox_api.client_secret,
        },
    )
    assert refreshed.status_code == 400  # HubSpot no longer honours the revoked refresh token
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(hubspot_integrations).where(hubspot_integrations.c.workspace_id == lonely.workspace_id)
        ).one()
        actions = conn.execute(
            sa.select(audit_log.c.action)
            .where(audit_log.c.workspace_id == lonely.workspace_id)
            .order_by(audit_log.c.id)
        ).scalars()
        assert (row.access_token, row.refresh_token) == (None, None)
        assert {"oauth.start", "oauth.connected", "oauth.disconnect"} <= set(actions)
    connection = client.get(url("/config"), headers=lonely.headers).json()["connection"]
    assert connection["connected"] is False and connection["status"] == "disconnected"
    again = client.post(url("/disconnect"), headers=lonely.headers)
    assert again.status_code == 409


def test_connecting_adds_the_workspace_to_the_sync_partitions(
    client, lonely: Tenant, sandbox_api, engine: sa.Engine
) -> None:
    import dagster as dg

    from hubspot_pipeline.db.tables import workspaces

    with engine.connect() as conn:
        slug = conn.execute(
            sa.select(workspaces.c.slug).where(workspaces.c.id == lonely.workspace_id)
        ).scalar_one()
    with dg.instance_for_test() as instance:  # DAGSTER_HOME set, as under `hubspot-pipeline dev`
        connect(client, lonely, sandbox_api)
        # Keyed by the workspace's slug, as every partition is.
        assert instance.get_dynamic_partitions("workspace") == [slug]
