"""A custom action: a POST of a signed JSON body to a URL the workspace configured.

Headers the receiver reads:
    X-ColdCopy-Timestamp   unix seconds when this attempt was signed
    X-ColdCopy-Signature   v1=<hex HMAC-SHA256 over "<timestamp>.<raw body>" with the workspace's signing secret>
    Idempotency-Key        the same on every attempt and every retry of one (trigger, event, action):
                           a receiver that has seen it has already acted

The receiver should refuse a timestamp more than 5 minutes old (a replay) and compare signatures in constant
time. The workspace's secret is derived from the deployment's WORKFLOW_SIGNING_SECRET (or, unset, a local secret
generated under the data folder) and the workspace id; GET /workflows shows it to the workspace.

Where it may go (core/addresses.py): https to public addresses, checked after DNS resolution before every
attempt, and the attempt connects to the address that was checked (`pin`: the host is resolved once, the
request keeps it as Host header and TLS server name), so a name that rebinds to a private address between the
check and the connection never reaches it; redirects are never followed. Attempts: up to `attempts` within one delivery on a timeout, a network
error, a 429 or a 5xx, with backoff; a 4xx or a redirect fails at once. The execution is retried later
(core/retry.py) with the same idempotency key.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from hubspot_pipeline.workflows.core.addresses import Target, address_problem, parse_target

if TYPE_CHECKING:
    from hubspot_pipeline.settings import Settings

Resolver = Callable[[str, int], list[str]]
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER_SECONDS = 5.0
RESPONSE_EXCERPT = 300


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


@dataclass(frozen=True)
class Pinned:
    """A URL bound to the one address its host resolved to when it was checked: the request goes to `url`
    (the address in place of the host) with the original `host` header and, over https, the host as TLS
    server name (SNI, and what the certificate is verified against)."""

    url: str
    host: str  # the Host header: the URL's host[:port] as written
    server_name: str | None  # https only

    @property
    def extensions(self) -> dict[str, Any]:
        return {"sni_hostname": self.server_name} if self.server_name else {}


def pin(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Pinned | str:
    """Resolve the URL's host once and check every address it gave; the first is where the request goes, so
    a name that answers a public address to the check and a private one later (DNS rebinding) never reaches
    the private one. Returns what keeps a custom action from this URL instead (a sentence's end)."""
    target = parse_target(url, allow_private=allow_private)
    if not isinstance(target, Target):
        return target
    try:
        addresses = resolver(target.host, target.port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        return f"has a host ({target.host}) that does not resolve"
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                return (
                    f"has a host ({target.host}) that {problem}; custom actions go to public addresses only"
                )
    parts = urllib.parse.urlsplit(url)
    address = addresses[0].split("%", 1)[0]
    literal = f"[{address}]" if ":" in address else address
    return Pinned(
        urllib.parse.urlunsplit(parts._replace(netloc=f"{literal}:{target.port}")),
        parts.netloc,
        target.host if target.scheme == "https" else None,
    )


def url_problem(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> str | None:
    """What keeps a custom action from this URL (a sentence's end: "must use https"), or None."""
    pinned = pin(url, allow_private=allow_private, resolver=resolver)
    return pinned if isinstance(pinned, str) else None


def workspace_secret(master: bytes, workspace_id: uuid.UUID) -> str:
    return hmac.new(
        master, b"workflow-custom-action:" + str(workspace_id).encode(), hashlib.sha256
    ).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    attempts: int
    status: int | None = None
    error: str | None = None  # why it failed, for the execution's error
    retryable: bool = False  # worth another execution attempt later
    answer: str | None = None  # the start of the receiver's answer

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class CustomActionSender:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float,
        attempts: int = 3,
        resolver: Resolver = system_resolver,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.attempts = attempts
        self.resolver = resolver
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            # No connection kept for another request: one to an address is verified for one host name.
            limits=httpx.Limits(max_keepalive_connections=0),
            transport=transport,
            headers={"User-Agent": "hubspot-pipeline-workflows/1", "Content-Type": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CustomActionSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, url: str, payload: Mapping[str, Any], *, idempotency_key: str, secret: str) -> Delivery:
        body = orjson.dumps(dict(payload))
        last = Delivery(False, 0, error="not attempted")
        for attempt in range(1, self.attempts + 1):
            pinned = pin(url, allow_private=self.allow_private, resolver=self.resolver)
            if isinstance(pinned, str):
                return Delivery(False, attempt - 1, error=f"the URL {pinned}")
            timestamp = int(time.time())
            headers = {
                "X-ColdCopy-Timestamp": str(timestamp),
                "X-ColdCopy-Signature": signature(secret, timestamp, body),
                "Idempotency-Key": idempotency_key,
            }
            wait = BACKOFF_SECONDS * 2 ** (attempt - 1)
            try:
                response = self._http.post(
                    pinned.url,
                    content=body,
                    headers={**headers, "Host": pinned.host},
                    extensions=pinned.extensions,
                )
            except httpx.TimeoutException:
                last = Delivery(False, attempt, error="the receiver did not answer in time", retryable=True)
            except httpx.HTTPError as error:
                last = Delivery(
                    False,
                    attempt,
                    error=f"could not reach the receiver ({type(error).__name__})",
                    retryable=True,
                )
            else:
                answer = response.text[:RESPONSE_EXCERPT] if response.content else None
                status = response.status_code
                if 200 <= status < 300:
                    return Delivery(True, attempt, status, answer=answer)
                if 300 <= status < 400:
                    location = response.headers.get("location", "")
                    return Delivery(
                        False,
                        attempt,
                        status,
                        f"the receiver answered {status}, a redirect to {location[:200]!r}: redirects are not "
                        "followed (a public URL could hand the request on to an internal one); configure the "
                        "final URL",
                        answer=answer,
                    )
                retryable = status == 429 or status >= 500
                last = Delivery(
                    False, attempt, status, f"the receiver answered HTTP {status}", retryable, answer
                )
                if not retryable:
                    return last
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    wait = min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
            if attempt < self.attempts:
                self._sleep(wait)
        return last


LOCAL_SECRET_FILE = "workflow_signing.secret"


def signing_secret(settings: Settings | None = None) -> bytes:
    """WORKFLOW_SIGNING_SECRET, or the local install's generated one. Its own setting: rotating the OAuth
    state secret must not change every receiver's secret."""
    from hubspot_pipeline.local_secret import local_secret
    from hubspot_pipeline.settings import get_settings

    settings = settings or get_settings()
    configured = settings.workflow_signing_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    return local_secret(settings.data_dir, LOCAL_SECRET_FILE)


def workspace_signing_secret(workspace_id: uuid.UUID, settings: Settings | None = None) -> str:
    """The secret a workspace's receiver verifies custom actions with (GET /workflows shows it)."""
    return workspace_secret(signing_secret(settings), workspace_id)


def sender_from_settings(**overrides: Any) -> CustomActionSender:
    from hubspot_pipeline.settings import get_settings

    settings = get_settings()
    return CustomActionSender(
        allow_private=settings.workflow_actions_allow_private_urls,
        timeout=settings.workflow_action_timeout_seconds,
        **overrides,
    )
