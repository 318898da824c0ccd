"""POST /webhooks/verify: check a workspace's webhook path end to end.

1. HubSpot's side, when HUBSPOT_DEVELOPER_API_KEY is set: the app's webhook target URL (read from HubSpot) is
   the URL this API verifies signatures against (WEBHOOK_PUBLIC_URL, or with it unset, this API's webhook
   path), and contact subscriptions are active.
2. A signed test event, sent over the network to the target URL exactly as HubSpot sends deliveries (v3
   signature with the app's client secret, timestamp, the workspace's portal id). The receiving replica checks
   it like any delivery and reaches the queue's database, but never queues it. The answer says whether it
   arrived and verified, and if not, what the receiver said.

The target is HubSpot's own target URL, else WEBHOOK_PUBLIC_URL: configuration only, never the request's Host
or any other header, or any API-key holder could make this server post payloads signed with the app's client
secret to an address of their choice (an internal port scanner that also hands out signed deliveries).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.hubspot_access import connected_hub_id
from hubspot_pipeline.api.webhook_ingest import PROBE_TYPE
from hubspot_pipeline.hubspot import OAuthApp
from hubspot_pipeline.hubspot.signatures import sign_v3
from hubspot_pipeline.settings import get_settings

TIMEOUT_SECONDS = 10.0


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not checked
    detail: str


def _target_check(target: str, public_url: str | None, webhook_path: str) -> Check:
    """Does HubSpot post where this API checks signatures? Without WEBHOOK_PUBLIC_URL the API checks them
    against the URL each delivery arrives at, so only the path can be compared here (the test delivery
    settles the rest)."""
    if public_url is not None:
        same = target == public_url
        return Check(
            "target_url",
            same,
            f"HubSpot posts to {target}; signatures are checked against WEBHOOK_PUBLIC_URL {public_url}"
            + ("" if same else ": make them equal."),
        )
    same = urllib.parse.urlsplit(target).path == webhook_path
    return Check(
        "target_url",
        same,
        f"HubSpot posts to {target}; with WEBHOOK_PUBLIC_URL unset, signatures are checked against the URL each "
        f"delivery arrives at, whose path is {webhook_path}"
        + ("" if same else ": correct the app's target URL (or set WEBHOOK_PUBLIC_URL behind a proxy)."),
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _hubspot_side(public_url: str | None, webhook_path: str) -> tuple[list[Check], str | None]:
    """The checks of the app's webhook settings, and HubSpot's target URL when it holds one."""
    settings = get_settings()
    if settings.hubspot_developer_api_key is None:
        return [
            Check(
                "hubspot_webhook_settings",
                None,
                "Not checked: set HUBSPOT_DEVELOPER_API_KEY to let this API read the app's webhook settings.",
            )
        ], None
    app = OAuthApp.from_settings()
    base = f"{app.api_base_url}/webhooks/v3/{settings.hubspot_app_id}"
    app.close()
    params = {"hapikey": settings.hubspot_developer_api_key.get_secret_value()}
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
            found = http.get(f"{base}/settings", params=params)
            subscriptions = http.get(f"{base}/subscriptions", params=params)
    except httpx.HTTPError as error:
        return [
            Check("hubspot_webhook_settings", False, f"HubSpot could not be reached ({type(error).__name__})")
        ], None
    found_body = _json(found)
    target = (
        found_body.get("targetUrl") or found_body.get("webhookUrl") if isinstance(found_body, dict) else None
    )
    if found.status_code != 200 or not isinstance(target, str) or not target:
        return [
            Check(
                "hubspot_webhook_settings",
                False,
                f"HubSpot answered {found.status_code} for the app's webhook settings, with no target URL: set "
                f"one in the app (PUT /webhooks/v3/{settings.hubspot_app_id}/settings) and check "
                "HUBSPOT_DEVELOPER_API_KEY and HUBSPOT_APP_ID.",
            )
        ], None
    checks = [_target_check(target, public_url, webhook_path)]
    body = _json(subscriptions) if subscriptions.status_code == 200 else {}
    results = body.get("results", []) if isinstance(body, dict) else body
    results = results if isinstance(results, list) else []
    active = sorted(
        str(s.get("eventType", "")) for s in results if isinstance(s, dict) and s.get("active") is True
    )
    contact = [kind for kind in active if kind.startswith("contact.")]
    checks.append(
        Check(
            "subscriptions",
            bool(contact),
            f"active: {', '.join(active) or 'none'}"
            + (
                ""
                if contact
                else "; activate contact.creation, contact.propertyChange, contact.deletion, contact.merge, "
                "contact.privacyDeletion"
            ),
        )
    )
    return checks, target


def _probe(target: str, hub_id: str) -> list[Check]:
    settings = get_settings()
    now_ms = int(time.time() * 1000)
    event = {
        "eventId": now_ms,
        "subscriptionId": 0,
        "portalId": int(hub_id) if hub_id.isdigit() else 0,
        "appId": settings.hubspot_app_id,
        "occurredAt": now_ms,
        "subscriptionType": PROBE_TYPE,
        "attemptNumber": 0,
        "objectId": 0,
        "changeSource": "INTEGRATION",
        "probeId": str(uuid.uuid4()),
    }
    body = json.dumps([event]).encode()
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(
            settings.hubspot_client_secret.get_secret_value(), "POST", target, body, now_ms
        ),
        "X-HubSpot-Request-Timestamp": str(now_ms),
    }
    try:
        # No redirects: the delivery goes to the configured target or nowhere.
        response = httpx.post(
            target, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False
        )
    except httpx.HTTPError as error:
        return [
            Check(
                "delivery",
                False,
                f"The test event did not arrive at {target} ({type(error).__name__}): check that the URL is "
                "reachable from HubSpot and routed to this API.",
            )
        ]
    checks = [Check("delivery", True, f"{target} answered {response.status_code}")]
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {}
    verified = response.status_code == 200 and isinstance(answer, dict) and answer.get("probes") == 1
    if verified:
        detail = "The test event's v3 signature verified and the queue's database answered."
    elif isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        detail = f"The receiver refused it: {answer['error'].get('message')}"
    else:
        detail = f"The URL did not answer like this API's webhook endpoint (HTTP {response.status_code})."
    checks.append(Check("signature", verified, detail))
    return checks


def verify_setup(engine: sa.Engine, workspace_id: uuid.UUID, webhook_path: str) -> dict[str, Any]:
    """The report of POST /webhooks/verify; `webhook_path` is this API's webhook route (the app's, not the
    request's)."""
    hub_id = connected_hub_id(engine, workspace_id)
    settings = get_settings()
    public_url = str(settings.webhook_public_url) if settings.webhook_public_url is not None else None
    if public_url is None and settings.hubspot_developer_api_key is None:
        raise ApiError(
            409,
            "webhook_target_unknown",
            "This API does not know where HubSpot posts webhooks, so it has nowhere to send a test delivery: set "
            "WEBHOOK_PUBLIC_URL to the app's webhook target URL, or HUBSPOT_DEVELOPER_API_KEY (with "
            "HUBSPOT_APP_ID) so that it reads the target URL from HubSpot. It never takes the target from the "
            "request.",
        )
    checks, hubspot_target = _hubspot_side(public_url, webhook_path)
    target = hubspot_target or public_url
    if target is None:
        checks.append(
            Check(
                "delivery",
                None,
                "Not sent: HubSpot holds no webhook target URL for the app and WEBHOOK_PUBLIC_URL is unset; set "
                "the app's target URL in HubSpot, or WEBHOOK_PUBLIC_URL.",
            )
        )
    else:
        checks.extend(_probe(target, hub_id))
    return {
        "ok": all(check.ok is not False for check in checks),
        "target_url": target,
        "hub_id": hub_id,
        "checks": [asdict(check) for check in checks],
    }
