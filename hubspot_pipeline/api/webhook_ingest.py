"""Receiving HubSpot webhooks: signature checks, parsing, and durable, de-duplicated storage.

Order of checks: size (413), signature over the raw bytes (401), then the body (400). Only then is anything
stored, and the endpoint answers 2xx only after the transaction holding the events has committed, so an
acknowledged event survives a crash of the API. The queue's `id` is the webhook sensor's cursor: inserts take
a transaction-scoped advisory lock so ids become visible in the order they were drawn and a reader never
skips a batch that committed late.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from hubspot_pipeline.api import audit
from hubspot_pipeline.api.json_input import UnstorableNumber, finite_float, json_problem
from hubspot_pipeline.db.tables import hubspot_integrations
from hubspot_pipeline.hubspot import signatures

WEBHOOK_INSERT_LOCK = 0x48505745  # "HPWE"
# The subscriptionType of the test events POST /webhooks/verify sends: verified like any delivery, not queued.
PROBE_TYPE = "hubspot_pipeline.verify"
MAX_EVENTS_PER_REQUEST = 1000
# HubSpot's events nest three levels (the array, an event, contact.merge's mergedObjectIds); this leaves room
# for fields HubSpot may add, and keeps every walk and jsonb's parsing far from any recursion limit.
MAX_JSON_DEPTH = 16
_INT64 = (-(2**63), 2**63 - 1)
# Epoch milliseconds in ASCII digits: str.isdigit() would also pass "²" and other Unicode digits, which int()
# refuses, and int() refuses numbers of more than 4,300 digits.
_EPOCH_MS = re.compile(r"[0-9]{1,16}")
_REQUIRED_INTS = ("portalId", "subscriptionId", "eventId", "objectId", "occurredAt")
_OPTIONAL_INTS = ("appId",)


class WebhookRejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def verify_signature(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    headers: dict[str, str],
    accept_legacy: bool,
    now_ms: int | None = None,
) -> str:
    """The signature version that verified the request; raises WebhookRejected(401) otherwise."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    v3 = headers.get("x-hubspot-signature-v3")
    if v3 is not None:
        timestamp = headers.get("x-hubspot-request-timestamp", "")
        if _EPOCH_MS.fullmatch(timestamp) is None:
            raise WebhookRejected(
                401,
                "bad_timestamp",
                "X-HubSpot-Request-Timestamp must be the request time in epoch milliseconds.",
            )
        age = now_ms - int(timestamp)
        if abs(age) > signatures.MAX_TIMESTAMP_AGE_MS:
            raise WebhookRejected(
                401,
                "stale_timestamp",
                "X-HubSpot-Request-Timestamp is more than 5 minutes from the server's clock; a replayed request "
                "is refused. Resend with a fresh timestamp and signature (and check the clocks).",
            )
        if signatures.verify_v3(secret, method, uri, body, v3, timestamp, now_ms=now_ms):
            return "v3"
        raise WebhookRejected(
            401,
            "bad_signature",
            f"X-HubSpot-Signature-v3 does not match; sign METHOD + {uri} + body + timestamp with the app's client "
            "secret (behind a proxy, set WEBHOOK_PUBLIC_URL to the URL HubSpot posts to).",
        )
    legacy = headers.get("x-hubspot-signature")
    version = headers.get("x-hubspot-signature-version", "v1").lower()
    if legacy is None:
        raise WebhookRejected(
            401,
            "missing_signature",
            "Unsigned request: HubSpot sends X-HubSpot-Signature-v3 and its timestamp.",
        )
    if not accept_legacy:
        raise WebhookRejected(
            401,
            "legacy_signature_refused",
            "Only v3 signatures are accepted (X-HubSpot-Signature-v3 with X-HubSpot-Request-Timestamp, which "
            "HubSpot sends with every delivery): v1/v2 sign no timestamp, so a captured delivery could be "
            "replayed at any time. An app that cannot send v3 needs WEBHOOK_ACCEPT_LEGACY_SIGNATURES=true.",
        )
    if version == "v2" and signatures.verify_v2(secret, method, uri, body, legacy):
        return "v2"
    if version == "v1" and signatures.verify_v1(secret, body, legacy):
        return "v1"
    raise WebhookRejected(
        401, "bad_signature", f"X-HubSpot-Signature ({version}) does not match this app's secret."
    )


def _int(event: dict[str, Any], name: str, index: int, *, required: bool) -> int | None:
    value = event.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not _INT64[0] <= value <= _INT64[1]:
        raise WebhookRejected(400, "malformed_event", f"event #{index}: `{name}` must be a 64-bit integer.")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_events(body: bytes) -> list[dict[str, Any]]:
    """The events of a delivery, validated; raises WebhookRejected(400) naming the first problem."""
    try:
        events = json.loads(body, parse_constant=_no_constants, parse_float=finite_float)
    except UnstorableNumber as problem:
        raise WebhookRejected(400, "malformed_body", f"The body {problem}.") from None
    except RecursionError:
        raise WebhookRejected(
            400,
            "malformed_body",
            f"The body nests deeper than {MAX_JSON_DEPTH} levels; HubSpot's events do not.",
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(
            400, "malformed_body", "The body must be a JSON array of HubSpot events."
        ) from None
    if not isinstance(events, list) or not events:
        raise WebhookRejected(
            400, "malformed_body", "The body must be a non-empty JSON array of HubSpot events."
        )
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise WebhookRejected(
            413,
            "too_many_events",
            f"At most {MAX_EVENTS_PER_REQUEST} events per request; send smaller batches.",
        )
    problem = json_problem(events, body, max_depth=MAX_JSON_DEPTH)
    if problem is not None:
        raise WebhookRejected(400, "malformed_body", f"The body {problem}.")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise WebhookRejected(400, "malformed_event", f"event #{index} must be a JSON object.")
        for name in _REQUIRED_INTS:
            _int(event, name, index, required=True)
        for name in _OPTIONAL_INTS:
            _int(event, name, index, required=False)
        kind = event.get("subscriptionType", event.get("eventType"))
        if not isinstance(kind, str) or not kind:
            raise WebhookRejected(
                400, "malformed_event", f"event #{index}: `subscriptionType` must be a string."
            )
        for name in ("propertyName", "changeSource"):
            if event.get(name) is not None and not isinstance(event[name], str):
                raise WebhookRejected(400, "malformed_event", f"event #{index}: `{name}` must be a string.")
    return events


@dataclass
class StoreResult:
    received: int
    stored: int
    unknown_portals: list[int] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


# One statement, compiled once: PostgreSQL unpacks the JSON array itself, which costs far less than binding
# 100 rows of parameters from Python.
_INSERT = sa.text(
    """
    INSERT INTO webhook_events (portal_id, workspace_id, app_id, subscription_id, event_id, object_id,
                                occurred_at, subscription_type, property_name, property_value, change_source,
                                payload)
    SELECT (e->>'portalId')::bigint, m.workspace_id, (e->>'appId')::bigint, (e->>'subscriptionId')::bigint,
           (e->>'eventId')::bigint, (e->>'objectId')::bigint, (e->>'occurredAt')::bigint,
           COALESCE(e->>'subscriptionType', e->>'eventType'), e->>'propertyName', e->>'propertyValue',
           e->>'changeSource', e
    FROM jsonb_array_elements(:events) WITH ORDINALITY AS t(e, n)
    LEFT JOIN unnest(CAST(:portals AS bigint[]), CAST(:workspaces AS uuid[])) AS m(portal_id, workspace_id)
           ON m.portal_id = (e->>'portalId')::bigint
    ORDER BY n
    ON CONFLICT ON CONSTRAINT webhook_events_dedup_key DO NOTHING
    RETURNING id
    """
).bindparams(sa.bindparam("events", type_=JSONB))  # bound as JSONB: encoded once, by the driver


def portal_workspaces(conn: sa.Connection, portal_ids: set[int]) -> dict[int, uuid.UUID]:
    """Connected workspaces of these portals (an integration holding tokens)."""
    rows = conn.execute(
        sa.select(hubspot_integrations.c.hub_id, hubspot_integrations.c.workspace_id).where(
            hubspot_integrations.c.hub_id.in_([str(portal) for portal in portal_ids]),
            hubspot_integrations.c.refresh_token.is_not(None),
            hubspot_integrations.c.workspace_id.is_not(None),
        )
    )
    return {int(row.hub_id): row.workspace_id for row in rows}


def store_events(engine: sa.Engine, events: list[dict[str, Any]], *, signature_version: str) -> StoreResult:
    """Store the events (each at most once) and commit; unknown portals are stored unassigned and audited."""
    portals = {event["portalId"] for event in events}
    with engine.begin() as conn:
        workspaces = portal_workspaces(conn, portals)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(WEBHOOK_INSERT_LOCK)))
        stored = conn.execute(
            _INSERT,
            {
                "events": events,
                "portals": list(workspaces),
                "workspaces": list(workspaces.values()),
            },
        ).all()
        unknown = sorted(portals - workspaces.keys())
        for portal in unknown:
            audit.record(
                conn,
                workspace_id=None,
                actor="hubspot-webhook",
                action="webhook.unknown_portal",
                target=f"portal:{portal}",
                details={
                    "portal_id": portal,
                    "events": sum(1 for event in events if event["portalId"] == portal),
                    "signature_version": signature_version,
                    "hint": "no connected workspace has this hub id; connect it through /auth or check the app",
                },
            )
    return StoreResult(received=len(events), stored=len(stored), unknown_portals=unknown)


def probe_storage(engine: sa.Engine, events: list[dict[str, Any]], *, signature_version: str) -> StoreResult:
    """For a delivery holding only test events: prove the queue's database answers, store nothing."""
    with engine.connect() as conn:
        conn.execute(sa.select(sa.func.count()).select_from(sa.text("webhook_events")).where(sa.false()))
    return StoreResult(received=len(events), stored=0)
