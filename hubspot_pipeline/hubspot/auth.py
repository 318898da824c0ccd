"""How a client authenticates: a private-app token, or a workspace's OAuth tokens.

    PrivateAppToken("pat-na1-...")
    OAuthTokens(store, workspace_id, app)     # refreshes 5 minutes before expiry, one refresh per portal
    AccessToken("CN...")                      # an OAuth access token as given, never refreshed (tests)

`HubSpotClient` asks `bearer()` before each call and, on a 401 EXPIRED_AUTHENTICATION, calls
`refresh_after_expired(token_used)` once and retries the call.
"""

from __future__ import annotations

import threading
import uuid
from typing import Protocol

from hubspot_pipeline.hubspot.errors import HubSpotError, register_secret
from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.hubspot.oauth import OAuthApp, TokenSet
from hubspot_pipeline.hubspot.token_store import TokenStore

REFRESH_MARGIN_SECONDS = 300.0


class Auth(Protocol):
    # HubSpot refuses some APIs to private apps (timeline events): callers choose another way for them.
    private_app: bool

    def bearer(self) -> str: ...

    def refresh_after_expired(self, used: str) -> bool: ...


class PrivateAppToken:
    private_app = True

    def __init__(self, token: str) -> None:
        register_secret(token)
        self._token = token

    def __repr__(self) -> str:
        return "PrivateAppToken([redacted])"

    def bearer(self) -> str:
        return self._token

    def refresh_after_expired(self, used: str) -> bool:
        return False  # a private-app token does not expire; a 401 is final


class AccessToken:
    """An OAuth access token used as given (tests, one-off scripts): never refreshed, so a 401 is final."""

    private_app = False

    def __init__(self, token: str) -> None:
        register_secret(token)
        self._token = token

    def __repr__(self) -> str:
        return "AccessToken([redacted])"

    def bearer(self) -> str:
        return self._token

    def refresh_after_expired(self, used: str) -> bool:
        return False


class OAuthTokens:
    private_app = False

    def __init__(
        self,
        store: TokenStore,
        workspace_id: uuid.UUID,
        app: OAuthApp,
        *,
        refresh_margin_seconds: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.store = store
        self.workspace_id = workspace_id
        self.app = app
        self.refresh_margin_seconds = refresh_margin_seconds
        self.refreshes = 0
        self.metrics: ClientMetrics | None = None
        self._current: TokenSet | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.app.close()

    def bind_metrics(self, metrics: ClientMetrics) -> None:
        """Count token calls and refreshes in the metrics of the client using these tokens."""
        self.metrics = metrics
        self.app.metrics = metrics

    def __repr__(self) -> str:
        return f"OAuthTokens(workspace_id={self.workspace_id})"

    def tokens(self) -> TokenSet:
        with self._lock:
            if self._current is None:
                self._current = self.store.load(self.workspace_id)
            if self._current.expires_within(self.refresh_margin_seconds):
                self._current = self.store.locked_refresh(
                    self.workspace_id, lambda t: t.expires_within(self.refresh_margin_seconds), self._refresh
                )
            return self._current

    def bearer(self) -> str:
        return self.tokens().access_token

    def refresh_after_expired(self, used: str) -> bool:
        with self._lock:
            self._current = self.store.locked_refresh(
                self.workspace_id, lambda t: t.access_token == used, self._refresh
            )
            return self._current.access_token != used

    def _refresh(self, refresh_token: str) -> TokenSet:
        self.refreshes += 1
        try:
            tokens = self.app.refresh(refresh_token)
        except HubSpotError:
            if self.metrics is not None:
                self.metrics.record_refresh(failed=True)
            raise
        if self.metrics is not None:
            self.metrics.record_refresh()
        return tokens
