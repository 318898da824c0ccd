"""Who is calling: a private-app token, an OAuth access token (which expires), or developer credentials
(the `hapikey` query parameter, for webhook settings and timeline templates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from hubspot_pipeline.sandbox.errors import (
    ApiError,
    envelope,
    expired_authentication,
    invalid_authentication,
    missing_scopes,
)
from hubspot_pipeline.sandbox.portal import Portal
from hubspot_pipeline.sandbox.query import Query
from hubspot_pipeline.sandbox.routing import Route
from hubspot_pipeline.sandbox.state import Sandbox
from hubspot_pipeline.sandbox.timeutil import iso_ms


@dataclass
class AuthInfo:
    kind: Literal["private", "oauth", "developer"]
    portal: Portal | None
    token: str
    app_id: int
    scopes: frozenset[str] | None  # None: every scope (private apps are granted what they need here)

    @property
    def budget_key(self) -> str:
        # Each private app and each OAuth app has its own burst window in a portal (reference §9.1).
        return f"{self.kind}:{self.token if self.kind == 'private' else self.app_id}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(sandbox: Sandbox, route: Route, request: Request, now_ms: int) -> AuthInfo | None:
    if route.auth in ("none", "admin"):
        return None
    if route.auth == "developer":
        hapikey = Query(request.query_params).text("hapikey")
        if hapikey is not None:
            if hapikey != sandbox.options.developer_api_key:
                raise ApiError(
                    401,
                    envelope(
                        "The API key provided is invalid. View or manage your API key "
                        "here: https://app.hubspot.com/l/api-key/",
                        "INVALID_AUTHENTICATION",
                    ),
                )
            return AuthInfo("developer", None, hapikey, sandbox.app.app_id, None)
        bearer = _bearer(request)
        if bearer == sandbox.options.developer_api_key:
            return AuthInfo("developer", None, bearer, sandbox.app.app_id, None)
        if bearer is None:
            raise invalid_authentication()
        # A portal's token is not developer credentials (reference §10, problem 15).
        _resolve_token(sandbox, bearer, now_ms)
        write = request.method != "GET"
        raise missing_scopes(("developers-write",) if write else ("developers-read",))
    token = _bearer(request)
    if token is None:
        raise invalid_authentication()
    info = _resolve_token(sandbox, token, now_ms)
    if route.scopes and info.scopes is not None and not info.scopes.intersection(route.scopes):
        raise missing_scopes(route.scopes)
    return info


def _resolve_token(sandbox: Sandbox, token: str, now_ms: int) -> AuthInfo:
    hub_id = sandbox.private_tokens.get(token)
    if hub_id is not None:
        return AuthInfo("private", sandbox.portals[hub_id], token, sandbox.app.app_id, None)
    access = sandbox.tokens.access.get(token)
    if access is None:
        if token.startswith("C") and len(token) > 20:
            # HubSpot decodes what looks like an OAuth token; a malformed one "expired" at the epoch.
            raise expired_authentication(now_ms, "1970-01-01T00:00:00Z")
        raise invalid_authentication()
    if now_ms >= access.expires_ms:
        raise expired_authentication(now_ms - access.expires_ms, iso_ms(access.expires_ms))
    portal = sandbox.portals.get(access.hub_id)
    if portal is None:
        raise invalid_authentication()
    return AuthInfo("oauth", portal, token, access.app_id, frozenset(access.scopes))
