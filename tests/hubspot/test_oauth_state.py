"""OAuth `state`: bound to its workspace, single-use, and refused when forged or expired."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import oauth_states
from hubspot_pipeline.hubspot.errors import HubSpotAuthError
from hubspot_pipeline.hubspot.oauth import OAuthApp
from hubspot_pipeline.hubspot.oauth_state import consume_state, issue_state

SECRET = b"test-state-secret"


def test_a_state_returns_its_workspace_once(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    state = issue_state(engine, workspace_id, secret=SECRET)
    assert consume_state(engine, state, secret=SECRET) == workspace_id
    with pytest.raises(HubSpotAuthError, match="already used"):
        consume_state(engine, state, secret=SECRET)


def test_a_forged_signature_is_refused_and_does_not_burn_the_state(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    state = issue_state(engine, workspace_id, secret=SECRET)
    nonce = state.split(".")[0]
    with pytest.raises(HubSpotAuthError):
        consume_state(engine, f"{nonce}.{'0' * 32}", secret=SECRET)
    assert consume_state(engine, state, secret=SECRET) == workspace_id


def test_an_expired_state_is_refused(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    state = issue_state(engine, workspace_id, secret=SECRET)
    with engine.begin() as conn:
        conn.execute(
            sa.update(oauth_states)
            .where(oauth_states.c.nonce == state.split(".")[0])
            .values(expires_at=sa.func.now() - sa.text("interval '1 second'"))
        )
    with pytest.raises(HubSpotAuthError):
        consume_state(engine, state, secret=SECRET)


def test_the_authorize_url_asks_for_the_seed_scopes_space_separated() -> None:
    app = OAuthApp(
        "cid",
        "secret",
        "https://example.com/callback",
        authorize_base_url="https://app.hubspot.com/oauth/authorize",
    )
    url = app.authorize_url("n.s")
    assert url.startswith(
        "https://app.hubspot.com/oauth/authorize?client_id=cid&redirect_uri=https%3A%2F%2Fexample.com"
    )
    assert (
        "scope=oauth%20crm.objects.contacts.read%20crm.objects.contacts.write%20crm.objects.companies.read"
        in url
    )
    assert "sales-email-read%20timeline" in url
    assert url.endswith("&state=n.s")
