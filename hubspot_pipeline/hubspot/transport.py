"""One HubSpot call, done right: budget from the shared limiter, auth, retries, typed errors, metrics.

`Transport.call()` is what every API method of `HubSpotClient` goes through. It is thread-safe: the httpx
connection pool is shared, so API methods fan batches out over `max_concurrency` threads.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from hubspot_pipeline.hubspot.auth import Auth
from hubspot_pipeline.hubspot.errors import (
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotSyncError,
    error_from_response,
)
from hubspot_pipeline.hubspot.limiter import Kind, RateLimiter, UnlimitedRateLimiter
from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.hubspot.retry import (
    UNSENT_ERRORS,
    Attempts,
    RetryPolicy,
    decide_network,
    decide_response,
    rate_limit_policy,
)

log = logging.getLogger(__name__)
# Connections beyond max_concurrency: batch fan-out takes max_concurrency, other threads' calls the rest.
SPARE_CONNECTIONS = 4


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: httpx.Headers


class Transport:
    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        limiter: RateLimiter | None = None,
        api_version: str = "v3",
        max_concurrency: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        metrics: ClientMetrics | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.limiter: RateLimiter = limiter or UnlimitedRateLimiter()
        self.api_version = api_version
        self.max_concurrency = max_concurrency
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or ClientMetrics()
        # OAuth auth counts its token calls and refreshes in the same metrics as the client's calls.
        bind_metrics = getattr(auth, "bind_metrics", None)
        if bind_metrics is not None:
            bind_metrics(self.metrics)
        self._sleep = sleep
        self._rng = rng
        # Seconds to add to the local clock to get HubSpot's (from the Date header), for search horizons.
        self.server_clock_offset = 0.0
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(
                max_connections=max_concurrency + SPARE_CONNECTIONS,
                max_keepalive_connections=max_concurrency + SPARE_CONNECTIONS,
            ),
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        # An OAuth auth holds the app's own HTTP client (token refreshes); it ends with the client using it.
        close_auth = getattr(self.auth, "close", None)
        if close_auth is not None:
            close_auth()

    # -- paths ---------------------------------------------------------------------------------------
    def objects_path(self, object_type: str) -> str:
        if self.api_version == "v3":
            return f"/crm/v3/objects/{object_type}"
        return f"/crm/objects/{self.api_version}/{object_type}"

    def properties_path(self, object_type: str) -> str:
        if self.api_version == "v3":
            return f"/crm/v3/properties/{object_type}"
        return f"/crm/properties/{self.api_version}/{object_type}"

    # -- the call --------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        kind: Kind = "general",
        idempotent: bool = True,
        accept: tuple[int, ...] = (),
    ) -> Response:
        """Make one logical call; returns 2xx responses and those with a status in `accept`, raises otherwise.

        `endpoint` labels metrics and errors (a template, never an id or an email). Every error it raises
        (the call's, a token refresh's, the daily cap's) is counted by type in `metrics.errors`."""
        try:
            return self._call(
                method,
                path,
                endpoint or f"{method} {path}",
                json=json,
                params=params,
                kind=kind,
                idempotent=idempotent,
                accept=accept,
            )
        except HubSpotError as error:
            self.metrics.record_error(error.kind)
            raise

    def _call(
        self,
        method: str,
        path: str,
        label: str,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        kind: Kind,
        idempotent: bool,
        accept: tuple[int, ...],
    ) -> Response:
        attempts = Attempts()
        refreshed = False
        while True:
            token = self.auth.bearer()
            grant = self.limiter.acquire(kind)
            self.metrics.record_wait(grant.waited)
            started = time.monotonic()
            try:
                # An empty bearer: the call authenticates otherwise (a developer API key in the query).
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                raw = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as error:
                if isinstance(error, UNSENT_ERRORS):
                    self.limiter.complete(grant, time.monotonic())
                # Otherwise HubSpot may still count the request later: its entry keeps its provisional bound.
                self.metrics.record_call(label, "network", time.monotonic() - started)
                decision = decide_network(self.retry, attempts, error, idempotent=idempotent, rng=self._rng)
                if not decision.retry:
                    raise HubSpotSyncError(
                        f"Could not complete the call to HubSpot ({type(error).__name__}) after "
                        f"{attempts.counts['network']} attempt(s); HubSpot may be unreachable, try the rows again later",
                        category="NETWORK",
                        endpoint=label,
                    ) from None
                log.info(
                    "network error on %s (%s); retrying in %.2fs", label, type(error).__name__, decision.wait
                )
                self.metrics.record_retry(decision.kind)
                self._sleep(decision.wait)
                continue
            answered = time.monotonic()
            self.limiter.complete(grant, answered)
            self.metrics.record_call(label, raw.status_code, answered - started)
            self._note_server_clock(raw.headers)
            if kind == "general":
                self.limiter.observe(raw.headers, grant)
            body = _body(raw)
            if raw.status_code == 429:
                self.metrics.record_rate_limited(rate_limit_policy(body))
            if raw.status_code < 400 or raw.status_code in accept:
                return Response(raw.status_code, body, raw.headers)
            category = body.get("category") if isinstance(body, dict) else None
            if raw.status_code == 401 and category == "EXPIRED_AUTHENTICATION" and not refreshed:
                refreshed = True
                if self.auth.refresh_after_expired(token):
                    continue
            decision = decide_response(
                self.retry, attempts, raw.status_code, body, raw.headers, idempotent=idempotent, rng=self._rng
            )
            if decision.retry:
                if decision.block_policy is not None:
                    self.limiter.block(kind, decision.wait)
                log.info("HTTP %s on %s; retrying in %.2fs", raw.status_code, label, decision.wait)
                self.metrics.record_retry(decision.kind)
                self._sleep(decision.wait)
                continue
            raise self._final_error(raw, body, label, decision.wait)

    def _final_error(self, raw: httpx.Response, body: Any, label: str, wait: float) -> HubSpotError:
        correlation = raw.headers.get("x-hubspot-correlation-id")
        error = error_from_response(raw.status_code, body, label, correlation)
        if isinstance(error, HubSpotRateLimitError) and rate_limit_policy(body) == "DAILY":
            retry_at = self.limiter.block_daily(time.time() + wait if wait else None)
            error.policy = "DAILY"
            error.retry_at = retry_at
        return error

    def _note_server_clock(self, headers: httpx.Headers) -> None:
        value = headers.get("date")
        if value:
            with contextlib.suppress(TypeError, ValueError):
                self.server_clock_offset = email.utils.parsedate_to_datetime(value).timestamp() - time.time()

    def server_now(self) -> float:
        """HubSpot's clock as far as we know it (epoch seconds)."""
        return time.time() + self.server_clock_offset


def _body(raw: httpx.Response) -> Any:
    if not raw.content:
        return None
    try:
        return raw.json()
    except ValueError:
        return {"message": raw.text[:500]}
