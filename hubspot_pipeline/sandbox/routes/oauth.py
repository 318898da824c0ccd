"""OAuth 2.0 as HubSpot serves it: /oauth/authorize (auto-approves and redirects back with `code` and
`state`, or `error`), the v1/v3 token endpoint (form-encoded; authorization_code and refresh_token),
token metadata, introspection and revocation. Access tokens last 30 minutes of sandbox time."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hubspot_pipeline.sandbox.errors import ApiError, correlation_id, oauth_error
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.tokens import SANDBOX_USER, AccessToken

HUB_DOMAIN = "sandbox.hubspot.local"


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _error(error: str, status: str, message: str) -> ApiError:
    failure = oauth_error(error, status, message)
    # The spec's Error schema also wants these; HubSpot's token errors carry a correlation id too.
    failure.body.update({"correlationId": correlation_id(), "category": "VALIDATION_ERROR"})
    return failure


async def authorize(context: RequestContext) -> Reply:
    sandbox = context.sandbox
    query = context.query
    client_id, redirect_uri = query.text("client_id"), query.text("redirect_uri")
    if client_id != sandbox.app.client_id or not redirect_uri:
        # HubSpot shows an error page instead of redirecting to an unverified redirect_uri.
        return Reply(
            400,
            raw=b"<html><body><h1>Authorization failed</h1><p>Unknown client_id or missing "
            b"redirect_uri.</p></body></html>",
            media_type="text/html",
        )
    state = query.text("state")
    extra = {"state": state} if state is not None else {}
    scopes, optional = query.words("scope"), query.words("optional_scope")
    if not scopes:
        params = {"error": "invalid_scope", "error_description": "The scope parameter is required.", **extra}
        return Reply(302, raw=b"", headers={"Location": _with_query(redirect_uri, params)})
    if sandbox.options.authorize_decision == "deny":
        params = {
            "error": "access_denied",
            "error_description": "The user declined to install the app.",
            **extra,
        }
        return Reply(302, raw=b"", headers={"Location": _with_query(redirect_uri, params)})
    hub_text = context.params.get("portalId") or query.text("hub_id") or str(sandbox.options.hub_id)
    if not hub_text.isdigit() or int(hub_text) not in sandbox.portals:
        params = {"error": "invalid_request", "error_description": f"Unknown account {hub_text}.", **extra}
        return Reply(302, raw=b"", headers={"Location": _with_query(redirect_uri, params)})
    granted = list(dict.fromkeys(["oauth", *scopes, *optional]))
    code = sandbox.tokens.new_code(int(hub_text), client_id, redirect_uri, granted, context.now_ms)
    return Reply(302, raw=b"", headers={"Location": _with_query(redirect_uri, {"code": code.code, **extra})})


async def _form(context: RequestContext) -> dict[str, str]:
    fields: dict[str, str] = {}
    if context.media_type() == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl((await context.body()).decode(), keep_blank_values=True))
    # v1 also reads client_secret and refresh_token from the query string (legacy).
    for key in ("client_secret", "refresh_token"):
        value = context.query.text(key)
        if key not in fields and value is not None:
            fields[key] = value
    return fields


def _token_body(access: AccessToken, refresh_token: str, ttl: int) -> dict[str, Any]:
    return {
        "token_type": "bearer",
        "refresh_token": refresh_token,
        "access_token": access.token,
        "expires_in": ttl,
        "hub_id": access.hub_id,
        "user_id": access.user_id,
        "scopes": access.scopes,
        "token_use": "access_token",
    }


async def token(context: RequestContext) -> Reply:
    sandbox = context.sandbox
    form = await _form(context)
    grant = form.get("grant_type")
    if grant not in ("authorization_code", "refresh_token"):
        raise _error("unsupported_grant_type", "BAD_GRANT_TYPE", "missing or invalid grant_type")
    if form.get("client_id") != sandbox.app.client_id:
        raise _error("invalid_client", "BAD_CLIENT_ID", "missing or unknown client id")
    if form.get("client_secret") != sandbox.app.client_secret:
        raise _error("invalid_client", "BAD_CLIENT_SECRET", "missing or invalid client secret")
    ttl = sandbox.options.access_token_ttl_seconds
    if grant == "authorization_code":
        code = sandbox.tokens.codes.get(form.get("code", ""))
        if code is None or code.used or context.now_ms >= code.expires_ms:
            raise _error("invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
        if form.get("redirect_uri") != code.redirect_uri:
            raise _error(
                "invalid_grant", "BAD_REDIRECT_URI", "redirect_uri does not match the one authorized"
            )
        code.used = True
        refresh = sandbox.tokens.new_refresh(code.hub_id, code.client_id, code.scopes)
    else:
        found = sandbox.tokens.refresh.get(form.get("refresh_token", ""))
        if found is None or found.revoked:
            raise _error("invalid_grant", "BAD_REFRESH_TOKEN", "refresh token is invalid, expired or revoked")
        if found.client_id != form.get("client_id"):
            raise _error("invalid_grant", "BAD_REFRESH_TOKEN", "refresh token was not issued to this client")
        refresh = found
    access = sandbox.tokens.new_access(
        refresh.hub_id,
        refresh.client_id,
        sandbox.app.app_id,
        refresh.scopes,
        context.now_ms,
        ttl,
        refresh.token,
    )
    return Reply(200, _token_body(access, refresh.token, ttl))


def _not_found(kind: str) -> ApiError:
    return ApiError(
        404,
        {
            "status": "error",
            "message": f"{kind} not found",
            "correlationId": correlation_id(),
            "category": "OBJECT_NOT_FOUND",
        },
    )


async def access_token_info(context: RequestContext) -> Reply:
    access = context.sandbox.tokens.access.get(context.params["token"])
    if access is None or context.now_ms >= access.expires_ms:
        raise _not_found("Access token")
    return Reply(
        200,
        {
            "token": access.token,
            "user": SANDBOX_USER,
            "hub_domain": HUB_DOMAIN,
            "scopes": access.scopes,
            "hub_id": access.hub_id,
            "app_id": access.app_id,
            "expires_in": (access.expires_ms - context.now_ms) // 1000,
            "user_id": access.user_id,
            "token_type": "access",
            "is_private_distribution": False,
        },
    )


async def refresh_token_info(context: RequestContext) -> Reply:
    refresh = context.sandbox.tokens.refresh.get(context.params["token"])
    if refresh is None or refresh.revoked:
        raise _not_found("Refresh token")
    return Reply(
        200,
        {
            "token": refresh.token,
            "user": SANDBOX_USER,
            "hub_domain": HUB_DOMAIN,
            "scopes": refresh.scopes,
            "hub_id": refresh.hub_id,
            "client_id": refresh.client_id,
            "user_id": 4242,
            "token_type": "refresh",
        },
    )


async def revoke_refresh_token(context: RequestContext) -> Reply:
    # Revokes only the refresh token; access tokens it issued stay valid until they expire (reference §1.3).
    refresh = context.sandbox.tokens.refresh.get(context.params["token"])
    if refresh is None:
        raise _not_found("Refresh token")
    refresh.revoked = True
    return Reply(204)


def _token_from_form(form: dict[str, str]) -> tuple[str, str | None]:
    if form.get("token"):
        return form["token"], form.get("token_type_hint")
    for hint in ("access_token", "refresh_token"):
        if form.get(hint):
            return form[hint], hint
    return "", None


async def introspect(context: RequestContext) -> Reply:
    sandbox = context.sandbox
    form = await _form(context)
    value, _ = _token_from_form(form)
    access = sandbox.tokens.access.get(value)
    if access is not None and context.now_ms < access.expires_ms:
        return Reply(
            200,
            {
                "active": True,
                "token": value,
                "hub_id": access.hub_id,
                "user_id": access.user_id,
                "client_id": access.client_id,
                "app_id": access.app_id,
                "user": SANDBOX_USER,
                "hub_domain": HUB_DOMAIN,
                "scopes": access.scopes,
                "expires_in": (access.expires_ms - context.now_ms) // 1000,
                "is_private_distribution": False,
                "token_use": "access_token",
                "token_type": "Bearer",
            },
        )
    refresh = sandbox.tokens.refresh.get(value)
    if refresh is not None and not refresh.revoked:
        return Reply(
            200,
            {
                "active": True,
                "token": value,
                "hub_id": refresh.hub_id,
                "user_id": 4242,
                "client_id": refresh.client_id,
                "app_id": sandbox.app.app_id,
                "user": SANDBOX_USER,
                "hub_domain": HUB_DOMAIN,
                "scopes": refresh.scopes,
                "is_private_distribution": False,
                "token_use": "refresh_token",
                "token_type": "Bearer",
            },
        )
    return Reply(200, {"active": False})


async def revoke(context: RequestContext) -> Reply:
    form = await _form(context)
    value, _ = _token_from_form(form)
    tokens = context.sandbox.tokens
    if value in tokens.refresh:
        tokens.refresh[value].revoked = True
    elif value in tokens.access:
        tokens.access[value].expires_ms = context.now_ms  # an access token revoked is one that has expired
    return Reply(200, {})


def register(router: Router) -> None:
    plain = {"auth": "none", "limit": "none"}
    router.add("GET", "/oauth/authorize", authorize, **plain)
    router.add("GET", "/oauth/{portalId}/authorize", authorize, **plain)
    router.add("POST", "/oauth/v1/token", token, **plain)
    router.add("POST", "/oauth/v3/token", token, **plain)
    router.add("GET", "/oauth/v1/access-tokens/{token}", access_token_info, **plain)
    router.add("GET", "/oauth/v1/refresh-tokens/{token}", refresh_token_info, **plain)
    router.add("DELETE", "/oauth/v1/refresh-tokens/{token}", revoke_refresh_token, **plain)
    router.add("POST", "/oauth/v3/token/introspect", introspect, **plain)
    router.add("POST", "/oauth/v3/token/revoke", revoke, **plain)
