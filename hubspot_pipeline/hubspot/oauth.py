"""The OAuth app: authorize URL, code exchange, refresh, revoke, token metadata (reference §1).

    app = OAuthApp.from_settings()                      # client id/secret, redirect URI, API base URL
    url = app.authorize_url(state)                      # send the user there (state: oauth_state.issue_state)
    tokens = app.exchange_code(code)                    # -> TokenSet (access, refresh, expires_at, hub_id, scopes)
    tokens = app.refresh(refresh_token)                 # invalid_grant -> HubSpotAuthError(category="invalid_grant")
    app.revoke(refresh_token)                           # on disconnect
    app.token_info(access_token)                        # -> TokenInfo(hub_id, scopes, app_id, user, expires_in)

Tokens travel in POST bodies only (v3 endpoints), never in a URL, so no access log or HTTP library log line
ever holds one. The token endpoint's 429 and 5xx are retried; `invalid_grant` is final.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx

from hubspot_pipeline.hubspot.errors import HubSpotAuthError, HubSpotSyncError, register_secret
from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.hubspot.retry import retry_after_seconds

# The seed's scopes. `oauth` is always granted and needed for the authorization-code flow.
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "sales-email-read",
    "timeline",
    # Beyond the seed's list: reading property definitions and creating the missing custom properties
    # of a mapping set need the schema scopes (HubSpot answers 403 MISSING_SCOPES without them).
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    # Workflow triggers enrol contacts (v2 enrollment) and read flows: workspaces connected before this was
    # asked keep syncing, and GET /config shows them as needing to reconnect for triggers.
    "automation",
)
PUBLIC_API = "https://api.hubapi.com"
# `hubspot-pipeline sandbox` (and `make dev`) serve the local HubSpot here; it is what an unset
# HUBSPOT_API_BASE_URL means.
LOCAL_SANDBOX_URL = "http://127.0.0.1:8765"
PUBLIC_AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
TOKEN_ATTEMPTS = 4


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: dt.datetime  # UTC, aware
    hub_id: str | None = None
    scopes: tuple[str, ...] = ()

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


@dataclass(frozen=True)
class TokenInfo:
    hub_id: str
    scopes: tuple[str, ...]
    app_id: str | None
    user: str | None
    expires_in: int | None
    active: bool


def configured_api_base_url(settings: Any = None) -> str:
    """HUBSPOT_API_BASE_URL, or the local sandbox when it is unset."""
    from hubspot_pipeline.settings import get_settings

    settings = settings or get_settings()
    return (
        str(settings.hubspot_api_base_url).rstrip("/") if settings.hubspot_api_base_url else LOCAL_SANDBOX_URL
    )


class OAuthApp:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        api_base_url: str = PUBLIC_API,
        authorize_base_url: str = PUBLIC_AUTHORIZE_URL,
        scopes: tuple[str, ...] = SCOPES,
        http: httpx.Client | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.api_base_url = api_base_url.rstrip("/")
        self.authorize_base_url = authorize_base_url
        self.scopes = scopes
        self._http = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        # Set by the client whose tokens these calls refresh (auth.OAuthTokens.bind_metrics): its counts.
        self.metrics: ClientMetrics | None = None

    @classmethod
    def from_settings(cls, settings: Any = None, *, api_base_url: str | None = None) -> OAuthApp:
        from hubspot_pipeline.settings import get_settings

        settings = settings or get_settings()
        base = api_base_url or configured_api_base_url(settings)
        authorize = (
            str(settings.hubspot_authorize_url)
            if settings.hubspot_authorize_url
            else (
                PUBLIC_AUTHORIZE_URL
                if base.rstrip("/") == PUBLIC_API
                else base.rstrip("/") + "/oauth/authorize"
            )
        )
        return cls(
            settings.hubspot_client_id,
            settings.hubspot_client_secret.get_secret_value(),
            str(settings.hubspot_redirect_uri),
            api_base_url=base,
            authorize_base_url=authorize,
        )

    def authorize_url(self, state: str, *, optional_scopes: tuple[str, ...] = ()) -> str:
        """Where to send the user to approve the app; scopes space-separated, encoded as %20."""
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
        }
        if optional_scopes:
            params["optional_scope"] = " ".join(optional_scopes)
        params["state"] = state
        query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
        return f"{self.authorize_base_url}?{query}"

    def exchange_code(self, code: str) -> TokenSet:
        return self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri},
            action="exchange",
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, action="refresh"
        )

    def revoke(self, refresh_token: str) -> None:
        """Revoke the refresh token (HubSpot keeps already-issued access tokens valid until they expire)."""
        response = self._post(
            "/oauth/v3/token/revoke", {"token": refresh_token, "token_type_hint": "refresh_token"}
        )
        if response.status_code not in (200, 204) and response.status_code != 400:
            raise self._error(response, "revoke")

    def token_info(self, access_token: str) -> TokenInfo:
        response = self._post(
            "/oauth/v3/token/introspect", {"token": access_token, "token_type_hint": "access_token"}
        )
        if response.status_code != 200:
            raise self._error(response, "token metadata")
        data = response.json()
        return TokenInfo(
            hub_id=str(data.get("hub_id", "")),
            scopes=tuple(data.get("scopes") or ()),
            app_id=str(data["app_id"]) if data.get("app_id") is not None else None,
            user=data.get("user"),
            expires_in=data.get("expires_in"),
            active=bool(data.get("active", True)),
        )

    # -- protocol ----------------------------------------------------------------------------------------
    def _token_request(self, form: dict[str, str], *, action: str) -> TokenSet:
        response = self._post("/oauth/v1/token", form)
        if response.status_code != 200:
            raise self._error(response, action)
        data = response.json()
        access, refresh = data["access_token"], data.get("refresh_token") or form.get("refresh_token", "")
        register_secret(access)
        register_secret(refresh)
        hub_id = data.get("hub_id")
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(data.get("expires_in", 1800))),
            hub_id=str(hub_id) if hub_id is not None else None,
            scopes=tuple(data.get("scopes") or ()),
        )

    def _post(self, path: str, form: dict[str, str]) -> httpx.Response:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        for attempt in range(TOKEN_ATTEMPTS):
            started = time.monotonic()
            try:
                response = self._http.post(self.api_base_url + path, data=form)
            except httpx.TransportError as error:
                if self.metrics is not None:
                    self.metrics.record_call(f"POST {path}", "network", time.monotonic() - started)
                if attempt == TOKEN_ATTEMPTS - 1:
                    raise HubSpotSyncError(
                        f"Could not reach HubSpot's OAuth endpoint {path}: {type(error).__name__}; try again later",
                        category="NETWORK",
                        endpoint=f"POST {path}",
                    ) from None
                time.sleep(0.5 * 2**attempt)
                continue
            if self.metrics is not None:
                self.metrics.record_call(f"POST {path}", response.status_code, time.monotonic() - started)
            if (response.status_code == 429 or response.status_code >= 500) and attempt < TOKEN_ATTEMPTS - 1:
                time.sleep(min(10.0, retry_after_seconds(response.headers) or 0.5 * 2**attempt))
                continue
            return response
        raise AssertionError("unreachable")

    def _error(self, response: httpx.Response, action: str) -> HubSpotAuthError | HubSpotSyncError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        code = body.get("error") or body.get("status") or body.get("category")
        detail = body.get("error_description") or body.get("message") or f"HTTP {response.status_code}"
        kw: dict[str, Any] = {
            "status": response.status_code,
            "correlation_id": body.get("correlationId") or response.headers.get("x-hubspot-correlation-id"),
            "endpoint": f"POST {response.request.url.path}",
        }
        if response.status_code >= 500 or response.status_code == 429:
            return HubSpotSyncError(
                f"HubSpot's OAuth endpoint failed during {action} ({detail}); try again later",
                category=code,
                **kw,
            )
        if code in ("invalid_grant", "BAD_REFRESH_TOKEN", "BAD_AUTH_CODE"):
            return HubSpotAuthError(
                f"HubSpot refused the {action} ({detail}). The connection is no longer valid: reconnect HubSpot "
                "for this workspace (Settings → Integrations → HubSpot → Connect)",
                category="invalid_grant",
                context={"hubspot_status": body.get("status")},
                **kw,
            )
        return HubSpotAuthError(
            f"HubSpot refused the OAuth {action} ({code}: {detail}); check HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET "
            "and HUBSPOT_REDIRECT_URI against the app's settings",
            category=str(code) if code else None,
            **kw,
        )

    def close(self) -> None:
        self._http.close()
