"""Counters a client keeps for metrics: calls by endpoint and status, latency, limiter wait, retries, errors
by type, 429s by policy, token refreshes.

A plain, thread-safe object. Read `client.metrics.snapshot()`; endpoints are templates such as
`POST /crm/v3/objects/contacts/batch/upsert`, never ids or emails. Status `"network"` counts transport
errors. The owner of a client records these figures in PostgreSQL once, when its work is done
(`hubspot_pipeline.monitoring.client_figures`), not on every call.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClientCounts:
    calls: dict[tuple[str, str], int]  # (endpoint template, status) -> calls
    errors: dict[str, int]  # error type -> errors raised
    rate_limited: dict[str, int]  # policy -> 429 answers
    token_refreshes: int
    refresh_failures: int


@dataclass
class ClientMetrics:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    latency_seconds: dict[str, float] = field(default_factory=dict)
    max_latency_seconds: dict[str, float] = field(default_factory=dict)
    limiter_wait_seconds: float = 0.0
    limiter_waits: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    token_refreshes: int = 0
    refresh_failures: int = 0
    # Errors the client raised or a batch reported, by `HubSpotError.kind` (auth, rate_limit, validation,
    # sync, network); and 429 answers by HubSpot's policy name (retried or not).
    errors: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self, endpoint: str, status: int | str, seconds: float) -> None:
        with self._lock:
            self.calls[(endpoint, str(status))] += 1
            self.latency_seconds[endpoint] = self.latency_seconds.get(endpoint, 0.0) + seconds
            self.max_latency_seconds[endpoint] = max(self.max_latency_seconds.get(endpoint, 0.0), seconds)

    def record_wait(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.limiter_wait_seconds += seconds
                self.limiter_waits += 1

    def record_retry(self, kind: str) -> None:
        with self._lock:
            self.retries[kind] += 1

    def record_refresh(self, *, failed: bool = False) -> None:
        with self._lock:
            if failed:
                self.refresh_failures += 1
            else:
                self.token_refreshes += 1

    def record_error(self, kind: str, count: int = 1) -> None:
        with self._lock:
            self.errors[kind] += count

    def record_rate_limited(self, policy: str | None) -> None:
        with self._lock:
            self.rate_limited[policy or "unknown"] += 1

    def counts(self) -> ClientCounts:
        """A consistent copy of the counters monitoring records."""
        with self._lock:
            return ClientCounts(
                dict(self.calls),
                dict(self.errors),
                dict(self.rate_limited),
                self.token_refreshes,
                self.refresh_failures,
            )

    def total_calls(self, status: str | None = None) -> int:
        with self._lock:
            return sum(n for (_, code), n in self.calls.items() if status is None or code == status)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            calls_by_endpoint: Counter[str] = Counter()
            for (endpoint, _), n in self.calls.items():
                calls_by_endpoint[endpoint] += n
            return {
                "calls": {f"{endpoint} {status}": n for (endpoint, status), n in sorted(self.calls.items())},
                "mean_latency_seconds": {
                    endpoint: self.latency_seconds[endpoint] / n
                    for endpoint, n in calls_by_endpoint.items()
                    if n
                },
                "max_latency_seconds": dict(self.max_latency_seconds),
                "limiter_wait_seconds": self.limiter_wait_seconds,
                "limiter_waits": self.limiter_waits,
                "retries": dict(self.retries),
                "token_refreshes": self.token_refreshes,
                "refresh_failures": self.refresh_failures,
                "errors": dict(self.errors),
                "rate_limited": dict(self.rate_limited),
            }
