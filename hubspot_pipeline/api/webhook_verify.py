"""POST /webhooks/verify: check a workspace's webhook path end to end.

1. HubSpot's side, when HUBSPOT_DEVELOPER_API_KEY is set: the app's webhook target URL is the URL this API
   verifies signatures against (WEBHOOK_PUBLIC_URL, or the URL it is reached at), and contact subscriptions
   are active.
2. A signed test event, sent over the network to that target URL exactly as HubSpot sends deliveries (v3
   signature with the app's client secret, timestamp, the workspace's portal id). The receiving replica checks
   it like any delivery and reaches the queue's database, but never queues it. The answer says whether it
   arrived and verified, and if not, what the receiver said.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import sqlalchemy as sa

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


def _hubspot_side(target_expected: str) -> tuple[list[Check], str | None]:
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
    if found.status_code != 200:
        return [
            Check(
                "hubspot_webhook_settings",
                False,
                f"HubSpot answered {found.status_code} for the app's webhook settings: set a target URL in the "
                f"app (PUT /webhooks/v3/{settings.hubspot_app_id}/settings) and check HUBSPOT_DEVELOPER_API_KEY "
                "and HUBSPOT_APP_ID.",
            )
        ], None
    target = found.json().get("targetUrl") or found.json().get("webhookUrl")
    checks = [
        Check(
            "target_url",
            target == target_expected,
            f"HubSpot posts to {target}; signatures are checked against {target_expected}"
            + ("" if target == target_expected else ": make them equal (WEBHOOK_PUBLIC_URL behind a proxy)."),
        )
    ]
    body = subscriptions.json() if subscriptions.status_code == 200 else {}
    results = body.get("results", []) if isinstance(body, dict) else body
    active = sorted(s.get("eventType", "") for s in results if s.get("active"))
    contact = [kind for kind in active if kind.startswith("contact.")]
    checks.append(
        Check(
            "subscriptions",
            bool(contact),
            f"active: {', '.join(active) or 'none'}"
            + (
                ""
                if contact
                else "; activate contact.creation, contact.propertyChange, contact.deletion, contact.merge"
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
        response = httpx.post(target, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
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


def verify_setup(engine: sa.Engine, workspace_id: uuid.UUID, own_url: str) -> dict[str, Any]:
    hub_id = connected_hub_id(engine, workspace_id)
    public = get_settings().webhook_public_url
    expected = str(public) if public is not None else own_url
    checks, hubspot_target = _hubspot_side(expected)
    target = hubspot_target or expected
    checks.extend(_probe(target, hub_id))
    return {
        "ok": all(check.ok is not False for check in checks),
        "target_url": target,
        "hub_id": hub_id,
        "checks": [asdict(check) for check in checks],
    }
