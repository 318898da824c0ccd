"""When to retry a HubSpot call and how long to wait: pure functions, no I/O (reference §9.4, §11.2 #3).

- network errors: up to 3 retries, exponential backoff with full jitter; a request that may have reached
  HubSpot (read timeout, dropped connection) is retried only when the operation is idempotent;
- 429: `Retry-After` when present, else by `policyName`: TEN_SECONDLY_ROLLING waits the interval
  (`X-HubSpot-RateLimit-Interval-Milliseconds`, 10 s by default), SECONDLY about a second, DAILY never;
- 5xx: exponential backoff with jitter (idempotent operations only: a failed create may have been applied);
- 423: at least 2 s; 477 (migration): `Retry-After` seconds, if short enough to wait;
- any other 4xx: not retried; the caller gets a typed error.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

NETWORK = "network"
SERVER = "server"
RATE_LIMIT = "rate_limit"
LOCKED = "locked"

# Errors raised before any byte of the request could have reached HubSpot: always safe to retry.
UNSENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    network_retries: int = 3
    server_retries: int = 5
    rate_limit_retries: int = 10
    locked_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    locked_delay: float = 2.0
    secondly_delay: float = 1.0
    ten_secondly_delay: float = 10.0
    # Longest Retry-After (477, 429) worth sleeping through; longer ones are raised to the caller.
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class Decision:
    retry: bool
    wait: float = 0.0
    kind: str = ""
    # The limiter blocks the whole portal for `wait` seconds (429 on a shared budget), not just this call.
    block_policy: str | None = None


@dataclass
class Attempts:
    counts: Counter[str] = field(default_factory=Counter)

    def take(self, kind: str) -> int:
        """Count one more retry of this kind; returns how many were taken before."""
        before = self.counts[kind]
        self.counts[kind] += 1
        return before


def backoff(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [cap/2, cap], cap = base * 2**attempt."""
    cap = min(policy.max_delay, policy.base_delay * (2**attempt))
    return (rng or random).uniform(cap / 2, cap)


def retry_after_seconds(headers: httpx.Headers | dict[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        import time

        return max(0.0, moment.timestamp() - time.time())


def rate_limit_policy(body: Any) -> str:
    """`policyName` of a 429 body; search 429s may omit it and only say "secondly" in the message."""
    data = body if isinstance(body, dict) else {}
    policy = data.get("policyName")
    if policy:
        return str(policy)
    if "secondly limit" in str(data.get("message", "")).lower():
        return "SECONDLY"
    if "daily limit" in str(data.get("message", "")).lower():
        return "DAILY"
    return "TEN_SECONDLY_ROLLING"


def decide_response(
    policy: RetryPolicy,
    attempts: Attempts,
    status: int,
    body: Any,
    headers: httpx.Headers | dict[str, str],
    *,
    idempotent: bool,
    rng: random.Random | None = None,
) -> Decision:
    """Whether to retry after an HTTP error response, and after how long."""
    retry_after = retry_after_seconds(headers)
    if status == 429:
        name = rate_limit_policy(body)
        if name == "DAILY" or attempts.take(RATE_LIMIT) >= policy.rate_limit_retries:
            return Decision(False, kind=RATE_LIMIT)
        if retry_after is not None:
            wait = retry_after
        elif name == "SECONDLY":
            wait = policy.secondly_delay
        else:
            interval = headers.get("x-hubspot-ratelimit-interval-milliseconds")
            wait = int(interval) / 1000 if interval and interval.isdigit() else policy.ten_secondly_delay
        if wait > policy.max_retry_after:
            return Decision(False, wait=wait, kind=RATE_LIMIT)
        return Decision(True, wait=wait, kind=RATE_LIMIT, block_policy=name)
    if status == 423:
        if attempts.take(LOCKED) >= policy.locked_retries:
            return Decision(False, kind=LOCKED)
        return Decision(True, wait=max(policy.locked_delay, retry_after or 0.0), kind=LOCKED)
    if status == 477:
        wait = retry_after if retry_after is not None else policy.max_delay
        if wait > policy.max_retry_after or attempts.take(SERVER) >= policy.server_retries:
            return Decision(False, wait=wait, kind=SERVER)
        return Decision(True, wait=wait, kind=SERVER)
    if status >= 500:
        if not idempotent:
            return Decision(False, kind=SERVER)
        attempt = attempts.take(SERVER)
        if attempt >= policy.server_retries:
            return Decision(False, kind=SERVER)
        return Decision(True, wait=max(backoff(policy, attempt, rng), retry_after or 0.0), kind=SERVER)
    return Decision(False)


def decide_network(
    policy: RetryPolicy,
    attempts: Attempts,
    error: Exception,
    *,
    idempotent: bool,
    rng: random.Random | None = None,
) -> Decision:
    """Whether to retry after a transport error (no response at all)."""
    if not idempotent and not isinstance(error, UNSENT_ERRORS):
        return Decision(False, kind=NETWORK)
    attempt = attempts.take(NETWORK)
    if attempt >= policy.network_retries:
        return Decision(False, kind=NETWORK)
    return Decision(True, wait=backoff(policy, attempt, rng), kind=NETWORK)
