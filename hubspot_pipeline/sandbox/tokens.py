"""OAuth authorization codes, access tokens and refresh tokens. Access tokens expire by the sandbox clock,
so a test can advance the clock past 30 minutes and watch a client refresh."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

AUTH_CODE_TTL_MS = 10 * 60 * 1000
SANDBOX_USER_ID = 4242
SANDBOX_USER = "sandbox.user@example.com"


@dataclass
class AuthCode:
    code: str
    hub_id: int
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_ms: int
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    hub_id: int
    client_id: str
    scopes: list[str]
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    hub_id: int
    client_id: str
    app_id: int
    scopes: list[str]
    issued_ms: int
    expires_ms: int
    refresh_token: str | None = None
    user_id: int = SANDBOX_USER_ID
    user: str = SANDBOX_USER


@dataclass
class TokenStore:
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)

    def new_code(
        self, hub_id: int, client_id: str, redirect_uri: str, scopes: list[str], now_ms: int
    ) -> AuthCode:
        code = AuthCode(
            f"na1-{secrets.token_hex(4)}-{secrets.token_hex(8)}",
            hub_id,
            client_id,
            redirect_uri,
            scopes,
            now_ms + AUTH_CODE_TTL_MS,
        )
        self.codes[code.code] = code
        return code

    def new_refresh(self, hub_id: int, client_id: str, scopes: list[str]) -> RefreshToken:
        token = (
            f"na1-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        )
        refresh = RefreshToken(token, hub_id, client_id, scopes)
        self.refresh[token] = refresh
        return refresh

    def new_access(
        self,
        hub_id: int,
        client_id: str,
        app_id: int,
        scopes: list[str],
        now_ms: int,
        ttl_seconds: int,
        refresh_token: str | None,
    ) -> AccessToken:
        # Real access tokens are opaque, vary in length and start with "C"; clients must allow 512 chars.
        token = "C" + secrets.token_urlsafe(96)
        access = AccessToken(
            token, hub_id, client_id, app_id, scopes, now_ms, now_ms + ttl_seconds * 1000, refresh_token
        )
        self.access[token] = access
        return access
