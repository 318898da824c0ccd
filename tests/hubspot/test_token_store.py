"""Tokens in `hubspot_integrations`: ciphertext only, key rotation through the `rotate-keys` command, the
connection status a refused refresh leaves behind. Refresh against a real token endpoint is covered in
test_oauth_sandbox.py."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.fernet import Fernet

from hubspot_pipeline.db.tables import audit_log, hubspot_integrations, hubspot_sync_config
from hubspot_pipeline.hubspot.cli import rotate_keys
from hubspot_pipeline.hubspot.errors import HubSpotAuthError
from hubspot_pipeline.hubspot.oauth import TokenSet
from hubspot_pipeline.hubspot.token_store import TokenStore
from hubspot_pipeline.hubspot.tokens import TokenCipher
from hubspot_pipeline.settings import get_settings


def _tokens(suffix: str) -> TokenSet:
    return TokenSet(
        access_token=f"access-{suffix}-{uuid.uuid4().hex}",
        refresh_token=f"refresh-{suffix}-{uuid.uuid4().hex}",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30),
        hub_id="4242",
        scopes=("oauth", "crm.objects.contacts.read"),
    )


def _row(engine: sa.Engine, workspace_id: uuid.UUID) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_integrations).where(hubspot_integrations.c.workspace_id == workspace_id)
        ).one()


def test_tokens_are_stored_as_ciphertext_and_read_back(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    store = TokenStore(engine, TokenCipher([Fernet.generate_key().decode()]))
    tokens = _tokens("a")
    store.save(workspace_id, tokens)
    row = _row(engine, workspace_id)
    assert tokens.access_token not in row.access_token and tokens.refresh_token not in row.refresh_token
    assert row.expires_at.tzinfo is None  # the seed's TIMESTAMP column holds UTC
    loaded = store.load(workspace_id)
    assert (loaded.access_token, loaded.refresh_token, loaded.hub_id) == (
        tokens.access_token,
        tokens.refresh_token,
        "4242",
    )


def test_rotate_keys_re_encrypts_every_row_and_old_ciphertext_reads_until_then(
    engine: sa.Engine, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    tokens = _tokens("b")
    TokenStore(engine, TokenCipher([old])).save(workspace_id, tokens)
    before = _row(engine, workspace_id).access_token
    # A new key is prepended: the old ciphertext still reads.
    assert TokenStore(engine, TokenCipher([new, old])).load(workspace_id).access_token == tokens.access_token

    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", f"{new},{old}")
    get_settings.cache_clear()
    try:
        outcome = CliRunner().invoke(rotate_keys, [])
    finally:
        get_settings.cache_clear()
    # Rows of other tests, under keys of their own, are reported as unreadable; this one is rotated.
    assert "Re-encrypted" in outcome.output
    after = _row(engine, workspace_id).access_token
    assert after != before
    # Only the new key is needed now.
    assert TokenStore(engine, TokenCipher([new])).load(workspace_id).refresh_token == tokens.refresh_token
    # The operation is audited with its counts; no token or key in it.
    with engine.connect() as conn:
        entry = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.details)
            .where(audit_log.c.action == "tokens.rotate_keys")
            .order_by(audit_log.c.id.desc())
            .limit(1)
        ).one()
    assert entry.actor == "cli" and entry.details["rotated"] >= 1
    assert not {old, new, tokens.access_token, tokens.refresh_token} & set(map(str, entry.details.values()))


def _audit(engine: sa.Engine, workspace_id: uuid.UUID) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        return [
            (row.action, row.details)
            for row in conn.execute(
                sa.select(audit_log.c.action, audit_log.c.details)
                .where(audit_log.c.workspace_id == workspace_id)
                .order_by(audit_log.c.id)
            )
        ]


def test_a_refresh_is_audited(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    store = TokenStore(engine, TokenCipher([Fernet.generate_key().decode()]))
    store.save(workspace_id, _tokens("d"))
    fresh = _tokens("e")
    store.locked_refresh(workspace_id, lambda t: True, lambda refresh_token: fresh)
    assert _audit(engine, workspace_id) == [("hubspot.token_refresh", {"hub_id": "4242"})]


def test_a_refused_refresh_marks_the_integration_and_raises(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    store = TokenStore(engine, TokenCipher([Fernet.generate_key().decode()]))
    store.save(workspace_id, _tokens("c"))

    def refuse(refresh_token: str) -> TokenSet:
        raise HubSpotAuthError("HubSpot refused the refresh (revoked)", category="invalid_grant", status=400)

    with pytest.raises(HubSpotAuthError):
        store.locked_refresh(workspace_id, lambda t: True, refuse)
    with engine.connect() as conn:
        status, error = conn.execute(
            sa.select(hubspot_sync_config.c.connection_status, hubspot_sync_config.c.connection_error).where(
                hubspot_sync_config.c.workspace_id == workspace_id
            )
        ).one()
    assert status == "needs_reconnect" and "revoked" in error
    # The failure and the reconnect it calls for are audited: the error's type and status, not its text.
    assert _audit(engine, workspace_id) == [
        (
            "hubspot.token_refresh_failed",
            {"hub_id": "4242", "error_type": "auth", "status": 400, "category": "invalid_grant"},
        ),
        ("hubspot.needs_reconnect", {"reason": "HubSpot refused the refresh (revoked)"}),
    ]
