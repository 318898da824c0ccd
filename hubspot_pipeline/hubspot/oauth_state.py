"""OAuth `state`: signed, bound to one workspace, single-use, expiring (table `oauth_states`).

    state = issue_state(engine, workspace_id)             # put it in the authorize URL
    workspace_id = consume_state(engine, state)           # on the callback; raises HubSpotAuthError if forged,
                                                          # expired or already used

The value is `<nonce>.<hmac>`: the HMAC (STATE_SIGNING_SECRET) rejects forged values before the database is
touched; the row makes it single-use (an UPDATE that only one caller can win).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import oauth_states
from hubspot_pipeline.hubspot.errors import HubSpotAuthError
from hubspot_pipeline.local_secret import local_secret
from hubspot_pipeline.settings import Settings, get_settings

STATE_TTL = dt.timedelta(minutes=10)
LOCAL_SECRET_FILE = "state_signing.secret"


def signing_secret(settings: Settings | None = None) -> bytes:
    settings = settings or get_settings()
    if settings.state_signing_secret is not None and settings.state_signing_secret.get_secret_value():
        return settings.state_signing_secret.get_secret_value().encode()
    return local_secret(settings.data_dir, LOCAL_SECRET_FILE)


def _sign(secret: bytes, nonce: str, workspace_id: uuid.UUID) -> str:
    return hmac.new(secret, f"{nonce}:{workspace_id}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_state(engine: sa.Engine, workspace_id: uuid.UUID, *, secret: bytes | None = None) -> str:
    nonce = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(oauth_states).values(
                nonce=nonce, workspace_id=workspace_id, expires_at=dt.datetime.now(dt.UTC) + STATE_TTL
            )
        )
    return f"{nonce}.{_sign(secret or signing_secret(), nonce, workspace_id)}"


def consume_state(engine: sa.Engine, state: str, *, secret: bytes | None = None) -> uuid.UUID:
    """The workspace the state was issued for; it can never be used again."""
    nonce, _, signature = state.partition(".")
    invalid = HubSpotAuthError(
        "The OAuth callback's state is invalid, expired or already used; start the HubSpot connection again",
        category="INVALID_STATE",
    )
    if not nonce or not signature:
        raise invalid
    with engine.begin() as conn:
        row = conn.execute(
            sa.update(oauth_states)
            .where(
                oauth_states.c.nonce == nonce,
                oauth_states.c.used_at.is_(None),
                oauth_states.c.expires_at > sa.func.now(),
            )
            .values(used_at=sa.func.now())
            .returning(oauth_states.c.workspace_id)
        ).one_or_none()
        if row is None:
            raise invalid
        if not hmac.compare_digest(signature, _sign(secret or signing_secret(), nonce, row.workspace_id)):
            raise invalid
    return row.workspace_id
