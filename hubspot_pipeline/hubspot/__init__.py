"""Everything that talks to HubSpot. Knows nothing of Dagster.

Public API (import from here):
    HubSpotClient                     client.py: every HubSpot call the project makes
    PrivateAppToken, OAuthTokens,     auth.py: how a client authenticates
    AccessToken
    DeveloperClient                   developer.py: the app's event templates (developer credentials)
    TimelineResult                    activities.py: timeline events created, already there, failed
    PostgresRateLimiter               limiter.py: one budget per portal, shared by every process
    SearchCursor, SearchPage          search.py: resumable incremental reads
    BatchResult, RowError             batch.py: per-row outcome of batch calls
    RetryPolicy                       retry.py
    ClientMetrics                     metrics.py
    OAuthApp, TokenSet, TokenInfo,    oauth.py: authorize URL, code exchange, refresh, revoke, metadata;
    SCOPES, configured_api_base_url   HUBSPOT_API_BASE_URL or the local sandbox
    issue_state, consume_state        oauth_state.py: signed single-use OAuth state
    TokenCipher, TokenStore           tokens.py, token_store.py: encrypted tokens in hubspot_integrations
    HubSpotError and subclasses       errors.py
"""

from hubspot_pipeline.hubspot.activities import TimelineResult
from hubspot_pipeline.hubspot.auth import AccessToken, OAuthTokens, PrivateAppToken
from hubspot_pipeline.hubspot.batch import BatchResult, RowError
from hubspot_pipeline.hubspot.client import HubSpotClient
from hubspot_pipeline.hubspot.developer import DeveloperClient
from hubspot_pipeline.hubspot.errors import (
    HubSpotAuthError,
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotSyncError,
    HubSpotValidationError,
)
from hubspot_pipeline.hubspot.limiter import PostgresRateLimiter, UnlimitedRateLimiter
from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.hubspot.oauth import SCOPES, OAuthApp, TokenInfo, TokenSet, configured_api_base_url
from hubspot_pipeline.hubspot.oauth_state import consume_state, issue_state
from hubspot_pipeline.hubspot.retry import RetryPolicy
from hubspot_pipeline.hubspot.search import SearchCursor, SearchPage
from hubspot_pipeline.hubspot.token_store import TokenStore
from hubspot_pipeline.hubspot.tokens import TokenCipher

__all__ = [
    "SCOPES",
    "AccessToken",
    "BatchResult",
    "ClientMetrics",
    "DeveloperClient",
    "HubSpotAuthError",
    "HubSpotClient",
    "HubSpotError",
    "HubSpotRateLimitError",
    "HubSpotSyncError",
    "HubSpotValidationError",
    "OAuthApp",
    "OAuthTokens",
    "PostgresRateLimiter",
    "PrivateAppToken",
    "RetryPolicy",
    "RowError",
    "SearchCursor",
    "SearchPage",
    "TimelineResult",
    "TokenCipher",
    "TokenInfo",
    "TokenSet",
    "TokenStore",
    "UnlimitedRateLimiter",
    "configured_api_base_url",
    "consume_state",
    "issue_state",
]
