"""Everything about the sandbox that a test, the demo or a benchmark may want to change. Every field can be
set at start (CLI flags, `run_sandbox(**options)`) and most at runtime (`PATCH /_sandbox/config`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hubspot_pipeline.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_DEVELOPER_API_KEY

# Burst limits per private app, requests per rolling 10 s (reference §9.1).
RATE_LIMIT_PROFILES: dict[str, int] = {
    "free": 100,
    "starter": 100,
    "professional": 190,
    "enterprise": 190,
    "increase": 250,
}
DAILY_LIMITS: dict[str, int] = {
    "free": 250_000,
    "starter": 250_000,
    "professional": 625_000,
    "enterprise": 1_000_000,
    "increase": 2_000_000,
}
RateLimitProfile = Literal["free", "starter", "professional", "enterprise", "increase"]


class FaultOptions(BaseModel):
    """Seeded fault injection on HubSpot API paths (never on /_sandbox). Probabilities are per request."""

    latency_ms: float = Field(0.0, ge=0, description="fixed latency added to every API request")
    jitter_ms: float = Field(0.0, ge=0, description="plus a uniform random 0..jitter_ms")
    rate_limit_429: float = Field(0.0, ge=0, le=1)
    error_500: float = Field(0.0, ge=0, le=1)
    error_502: float = Field(0.0, ge=0, le=1)
    error_503: float = Field(0.0, ge=0, le=1)
    timeout: float = Field(0.0, ge=0, le=1, description="hang, then answer 504 (a client times out first)")
    timeout_seconds: float = Field(30.0, ge=0, description="how long a timeout fault hangs, real seconds")
    drop_connection: float = Field(0.0, ge=0, le=1, description="close the connection mid-response")
    error_after_write: float = Field(
        0.0,
        ge=0,
        le=1,
        description="a POST, PUT, PATCH or DELETE is handled (its writes applied), then answered 502 or 504, "
        "as when HubSpot's gateway gives up on an origin that still finishes the work",
    )
    hold: list[str] = Field(
        default_factory=list,
        description='endpoints as counted ("POST /crm/v3/objects/emails/batch/create") whose requests wait, '
        "before they are handled, until the endpoint leaves this list: calls in flight for as long as a test needs",
    )


class WebhookOptions(BaseModel):
    max_events_per_request: int = Field(100, ge=1, le=100)
    max_concurrent_requests: int = Field(10, ge=1)
    answer_timeout_seconds: float = Field(
        5.0, gt=0, description="a slower answer is a failure (sandbox time)"
    )
    max_retries: int = Field(10, ge=0)
    # Delays before retry 1..10, sandbox seconds: ~24 h in all, as HubSpot spreads them.
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: [60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 28800]
    )
    retry_jitter: float = Field(0.1, ge=0, le=1, description="each delay varies by up to this fraction")
    flush_interval_ms: float = Field(50.0, ge=0, description="real ms events wait to be batched")
    duplicate_probability: float = Field(0.0, ge=0, le=1, description="deliver an event twice")
    out_of_order: bool = Field(False, description="shuffle events within and across requests")


class SandboxOptions(BaseModel):
    private_app_token: str = "pat-local-demo"
    hub_id: int = 1234567
    # The one developer app the sandbox knows: OAuth client, webhook settings, timeline templates.
    app_id: int = 1
    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    developer_api_key: str = SANDBOX_DEVELOPER_API_KEY
    access_token_ttl_seconds: int = Field(1800, gt=0)
    authorize_decision: Literal["approve", "deny"] = "approve"

    rate_limits_enabled: bool = True
    rate_limit_profile: RateLimitProfile = "free"
    ten_second_limit: int | None = Field(None, ge=1, description="overrides the profile's burst limit")
    oauth_ten_second_limit: int = Field(110, ge=1)
    daily_limit: int | None = Field(None, ge=1, description="overrides the profile's daily limit")
    search_per_second: int = Field(5, ge=1)
    retry_after_seconds: float | None = Field(None, description="send Retry-After on 429s (undocumented)")

    index_lag_seconds: float = Field(0.0, ge=0, description="how long a write stays invisible to search")
    empty_properties: Literal["omit", "null"] = Field(
        "omit", description="requested properties without a value: left out (2026 docs) or null (older)"
    )
    max_uri_length: int = Field(8192, ge=256, description="longer request URIs get HubSpot's 414")
    merge_keeps_primary_id: bool = Field(False, description="HubSpot's Primary ID Preservation beta")
    timeline_repeat: Literal["conflict", "overwrite"] = Field(
        "conflict",
        description="a timeline event id sent again (HubSpot does not document which): a 409, or the event "
        "overwritten in place and answered like a create; never a second event",
    )
    enrollment_missing_status: Literal[404, 412] = Field(
        404,
        description="v2 enrollment of an unknown workflow or contact (HubSpot documents neither status): 404 "
        "OBJECT_NOT_FOUND, or 412 as older integrations report",
    )
    clock_scale: float = Field(1.0, gt=0, description="sandbox seconds per real second")
    seed: int = 0
    faults: FaultOptions = Field(default_factory=FaultOptions)
    webhooks: WebhookOptions = Field(default_factory=WebhookOptions)

    def burst_limit(self) -> int:
        return self.ten_second_limit or RATE_LIMIT_PROFILES[self.rate_limit_profile]

    def daily_cap(self) -> int:
        return self.daily_limit or DAILY_LIMITS[self.rate_limit_profile]
