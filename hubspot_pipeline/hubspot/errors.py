"""Typed errors for everything that goes wrong talking to HubSpot.

    HubSpotError                  base: status, category, correlation_id, context, retryable
      HubSpotAuthError            401/403, OAuth failures (invalid_grant: the integration needs reconnecting)
      HubSpotRateLimitError       429 that could not be waited out (DAILY cap, or retries exhausted)
      HubSpotValidationError      other 4xx: the request or one record is wrong; log it and skip the row
      HubSpotSyncError            5xx / network failures that persisted, or a response we cannot read

Messages say what was wrong and what to do next. They never contain a token: `redact()` scrubs every
secret the process has registered (`register_secret`) from any text that ends up in a message.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# Shapes of HubSpot tokens, scrubbed even when they were never registered (defence in depth).
_TOKEN_SHAPES = re.compile(
    r"\b(pat-[a-z]{2}\d-[0-9a-f-]{20,}|(?:na|eu|ap)\d-[0-9a-f]{4}-[0-9a-f-]{20,}|CN[A-Za-z0-9_-]{40,})"
)


def register_secret(value: str | None) -> None:
    """Remember a token so that `redact` removes it from any message built afterwards."""
    if value and len(value) >= 8:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return _TOKEN_SHAPES.sub("[redacted]", text)


class HubSpotError(Exception):
    """Base class: one failed HubSpot call, with what HubSpot said about it."""

    retryable = False
    error_type = "sync"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.message = redact(message)
        self.status = status
        self.category = category
        self.correlation_id = correlation_id
        self.context: dict[str, Any] = json.loads(redact(json.dumps(dict(context or {}), default=str)))
        self.endpoint = endpoint
        super().__init__(self.__str__())

    @property
    def kind(self) -> str:
        """The type metrics and alerts count this error under: auth, rate_limit, validation, sync or network
        (a HubSpotSyncError whose call never got an answer)."""
        return "network" if self.category == "NETWORK" else self.error_type

    def __str__(self) -> str:
        parts = [self.message]
        details = [
            f"{name}={value}"
            for name, value in (
                ("endpoint", self.endpoint),
                ("status", self.status),
                ("category", self.category),
                ("correlation_id", self.correlation_id),
            )
            if value is not None
        ]
        if details:
            parts.append("(" + ", ".join(details) + ")")
        return " ".join(parts)


class HubSpotAuthError(HubSpotError):
    """The credentials were refused or lack a scope; the workspace must reconnect or grant the scope."""

    error_type = "auth"


class HubSpotRateLimitError(HubSpotError):
    """The portal's budget is exhausted; `retry_at` (epoch seconds) says when to try again, if known."""

    error_type = "rate_limit"

    def __init__(
        self, message: str, *, policy: str | None = None, retry_at: float | None = None, **kw: Any
    ) -> None:
        self.policy = policy
        self.retry_at = retry_at
        super().__init__(message, **kw)


class HubSpotValidationError(HubSpotError):
    """HubSpot refused the request or a record as invalid (4xx); retrying unchanged will fail again."""

    error_type = "validation"


class HubSpotSyncError(HubSpotError):
    """HubSpot kept failing (5xx, network) or answered something unreadable; try the rows again later."""

    retryable = True


def error_from_response(
    status: int, body: Any, endpoint: str, correlation_id: str | None = None
) -> HubSpotError:
    """Build the typed error for a final (non-retried) error response."""
    data = body if isinstance(body, dict) else {}
    message = str(data.get("message") or data.get("error_description") or f"HubSpot answered HTTP {status}")
    category = data.get("category") or data.get("errorType") or data.get("error") or data.get("status")
    correlation = data.get("correlationId") or correlation_id
    context: dict[str, Any] = {}
    if isinstance(data.get("context"), dict):
        context.update(data["context"])
    if isinstance(data.get("errors"), list) and data["errors"]:
        context["errors"] = data["errors"][:10]
    kw: dict[str, Any] = {
        "status": status,
        "category": category,
        "correlation_id": correlation,
        "context": context,
        "endpoint": endpoint,
    }
    if status in (401, 403):
        hint = (
            "the app lacks a scope: reconnect HubSpot for this workspace granting it"
            if status == 403
            else "check the token, or reconnect HubSpot for this workspace"
        )
        return HubSpotAuthError(f"HubSpot refused the credentials: {message}; {hint}", **kw)
    if status == 429:
        policy = data.get("policyName")
        return HubSpotRateLimitError(
            f"HubSpot rate limit reached ({policy or 'unknown policy'}): {message}; wait for the budget to reset",
            policy=policy,
            **kw,
        )
    if 400 <= status < 500:
        return HubSpotValidationError(f"HubSpot rejected the request: {message}", **kw)
    return HubSpotSyncError(
        f"HubSpot failed with HTTP {status}: {message}; the rows can be retried later", **kw
    )
