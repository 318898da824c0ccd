"""POST /webhooks: HubSpot's deliveries. Authenticated by HubSpot's signature, not by an API key."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hubspot_pipeline.api import audit
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import error_body
from hubspot_pipeline.api.webhook_ingest import (
    PROBE_TYPE,
    WebhookRejected,
    parse_events,
    probe_storage,
    store_events,
    verify_signature,
)
from hubspot_pipeline.api.webhook_verify import verify_setup
from hubspot_pipeline.settings import get_settings

router = APIRouter(tags=["webhooks"])
log = logging.getLogger(__name__)


class WebhookReceipt(BaseModel):
    received: int
    stored: int
    duplicates: int
    unknown_portals: list[int]
    signature_version: str
    probes: int = 0  # test events of POST /webhooks/verify: verified, never queued


def signed_url(request: Request) -> str:
    """The URL HubSpot signed: WEBHOOK_PUBLIC_URL when set (behind a proxy), else the URL as received, with
    its path and query exactly as sent."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    public = get_settings().webhook_public_url
    if public is not None:
        base = str(public)
        return base if not query or "?" in base else f"{base}?{query}"
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    host = request.headers.get("host") or request.url.netloc
    url = f"{request.url.scheme}://{host}{raw_path.decode('latin-1')}"
    return f"{url}?{query}" if query else url


_REJECTIONS = {
    400: {"model": dict, "description": "The body is not a JSON array of HubSpot events."},
    401: {"model": dict, "description": "Missing, wrong or stale signature."},
    413: {"model": dict, "description": "Body too large."},
}


@router.post(
    "/webhooks",
    response_model=WebhookReceipt,
    summary="Receive HubSpot webhook events (signed by HubSpot)",
    responses=_REJECTIONS,
)
async def receive_webhooks(request: Request) -> JSONResponse:
    settings = get_settings()
    try:
        body = await request.body()  # at most WEBHOOK_MAX_BODY_BYTES (request_limits.py)
        version = verify_signature(
            secret=settings.hubspot_client_secret.get_secret_value(),
            method=request.method,
            uri=signed_url(request),
            body=body,
            headers={name.lower(): value for name, value in request.headers.items()},
            accept_legacy=settings.webhook_accept_legacy_signatures,
        )
        events = parse_events(body)
    except WebhookRejected as rejected:
        # The reason code only: bodies hold emails and names.
        log.warning("webhook delivery refused: %s %s", rejected.status, rejected.code)
        return JSONResponse(error_body(rejected.code, rejected.message), status_code=rejected.status)
    probes = [event for event in events if event.get("subscriptionType") == PROBE_TYPE]
    real = [event for event in events if event.get("subscriptionType") != PROBE_TYPE]
    store = store_events if real else probe_storage
    result = await run_in_threadpool(store, request.app.state.engine, real, signature_version=version)
    receipt = WebhookReceipt(
        received=len(events),
        stored=result.stored,
        duplicates=result.received - result.stored,
        unknown_portals=result.unknown_portals,
        signature_version=version,
        probes=len(probes),
    )
    return JSONResponse(receipt.model_dump())


class VerifyCheck(BaseModel):
    name: str
    ok: bool | None
    detail: str


class VerifyResult(BaseModel):
    ok: bool
    target_url: str | None = Field(
        description="Where the test delivery went: HubSpot's target URL, else WEBHOOK_PUBLIC_URL (null: neither)."
    )
    hub_id: str
    checks: list[VerifyCheck]


@router.post(
    "/webhooks/verify",
    response_model=VerifyResult,
    summary="Check the webhook setup end to end: HubSpot's settings and a signed test event",
    responses={409: {"model": dict, "description": "Not connected, or no webhook target URL is configured."}},
)
def verify_webhooks(request: Request, caller: CallerDep, engine: EngineDep) -> VerifyResult:
    # The route's path from the app's own routing table; nothing of the request (Host, X-Forwarded-*) is used.
    webhook_path = str(request.app.url_path_for("receive_webhooks"))
    result = VerifyResult.model_validate(verify_setup(engine, caller.workspace_id, webhook_path))
    with engine.begin() as conn:
        audit.record(
            conn,
            workspace_id=caller.workspace_id,
            actor=caller.actor,
            action="webhooks.verify",
            details={"ok": result.ok, "failed": [c.name for c in result.checks if c.ok is False]},
        )
    return result
