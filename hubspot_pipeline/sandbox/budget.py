"""Spending a portal's budget for one request, the rate-limit headers, and the 429s HubSpot sends."""

from __future__ import annotations

from hubspot_pipeline.sandbox.auth import AuthInfo
from hubspot_pipeline.sandbox.errors import ApiError, rate_limit_body
from hubspot_pipeline.sandbox.rate_limits import TEN_SECONDS_MS
from hubspot_pipeline.sandbox.routing import Route
from hubspot_pipeline.sandbox.state import Sandbox


def _retry_after(sandbox: Sandbox) -> dict[str, str]:
    seconds = sandbox.options.retry_after_seconds
    return {} if seconds is None else {"Retry-After": f"{seconds:g}"}


def spend(sandbox: Sandbox, route: Route, auth: AuthInfo | None, now_ms: int) -> dict[str, str]:
    """Charges the request to its portal; returns the headers to send, or raises the 429."""
    if route.limit == "none" or auth is None or auth.portal is None:
        return {}
    options = sandbox.options
    portal = auth.portal
    budget = portal.budget
    attempts, accepted = budget.log("search" if route.limit == "search" else "general")
    attempts.append(now_ms)
    if not options.rate_limits_enabled:
        accepted.append(now_ms)
        return {}
    oauth = auth.kind == "oauth"
    if route.limit == "search":
        allowed, _ = budget.search.take(now_ms, options.search_per_second)
        if not allowed:
            raise ApiError(
                429,
                rate_limit_body("You have reached your secondly limit.", "SECONDLY"),
                _retry_after(sandbox),
            )
        if not oauth:
            budget.take_daily(now_ms, options.daily_cap())
        accepted.append(now_ms)
        return {}  # search responses carry no rate-limit headers (reference §3.3)

    limit = options.oauth_ten_second_limit if oauth else options.burst_limit()
    window = budget.window(auth.budget_key)
    # A request refused by the 10-second window is not charged to the day.
    burst_full = window.used(now_ms) >= limit
    headers: dict[str, str] = {}
    if not oauth:
        daily_cap = options.daily_cap()
        if burst_full:
            daily_ok, daily_remaining = True, budget.daily_remaining(now_ms, daily_cap)
        else:
            daily_ok, daily_remaining = budget.take_daily(now_ms, daily_cap)
        headers["X-HubSpot-RateLimit-Daily"] = str(daily_cap)
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily_remaining)
        if not daily_ok:
            raise ApiError(
                429,
                rate_limit_body("You have reached your daily limit.", "DAILY"),
                {**headers, **_retry_after(sandbox)},
            )
    allowed, remaining = window.take(now_ms, limit)
    secondly = max(limit // 10, 1)
    second = budget.second(auth.budget_key)
    if allowed:
        second.take(now_ms, limit=1 << 30)  # counted, never refused: HubSpot no longer enforces it
    secondly_remaining = max(secondly - second.used(now_ms), 0)
    headers.update(
        {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(TEN_SECONDS_MS),
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Secondly": str(secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(secondly_remaining),
        }
    )
    if not allowed:
        kind = "private_app" if auth.kind == "private" else "oauth"
        group = f"publicapi:{kind}-api-calls-ten-secondly:{auth.app_id}:{portal.hub_id}"
        raise ApiError(
            429,
            rate_limit_body(
                "You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING", group
            ),
            {**headers, **_retry_after(sandbox)},
        )
    accepted.append(now_ms)
    return headers
