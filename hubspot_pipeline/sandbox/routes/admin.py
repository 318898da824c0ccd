"""The /_sandbox surface: what a HubSpot user does in HubSpot's UI (edit a contact, which fires webhooks
with changeSource CRM_UI), and what tests and benchmarks need: reset, config, the clock, call counters,
rate-window analysis, bulk data with identical timestamps, OAuth tokens without the browser dance."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.crm import (
    check_properties,
    conflict_error,
    create_record,
    emit_event,
    update_record,
)
from hubspot_pipeline.sandbox.errors import ApiError, not_found, resource_not_found, validation_error
from hubspot_pipeline.sandbox.lookup import find_record
from hubspot_pipeline.sandbox.object_types import resolve_object_type
from hubspot_pipeline.sandbox.options import SandboxOptions
from hubspot_pipeline.sandbox.portal import Flow, Portal
from hubspot_pipeline.sandbox.rate_limits import (
    ONE_SECOND_MS,
    TEN_SECONDS_MS,
    busiest_window,
    windows_over,
)
from hubspot_pipeline.sandbox.records import WriteSource
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.serialize import record_json
from hubspot_pipeline.sandbox.timeutil import iso_ms
from hubspot_pipeline.sandbox.values import invalid_property_error

ADMIN = "/_sandbox"


def _portal(context: RequestContext) -> Portal:
    hub = context.params["hubId"]
    portal = context.sandbox.portal(int(hub)) if hub.isdigit() else None
    if portal is None:
        raise resource_not_found(f"No portal {hub} in this sandbox")
    return portal


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = (
            _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return merged


async def health(context: RequestContext) -> Reply:
    return Reply(200, {"status": "ok", "hubIds": sorted(context.sandbox.portals)})


async def reset(context: RequestContext) -> Reply:
    context.sandbox.reset()
    return Reply(200, {"status": "reset"})


async def get_config(context: RequestContext) -> Reply:
    return Reply(200, context.sandbox.options.model_dump())


async def patch_config(context: RequestContext) -> Reply:
    sandbox = context.sandbox
    try:
        options = SandboxOptions.model_validate(
            _merge(sandbox.options.model_dump(), await context.json_object())
        )
    except ValueError as error:
        raise validation_error(f"Invalid sandbox options: {error}") from None
    sandbox.options = options
    if options.clock_scale != sandbox.clock.scale:
        sandbox.clock.set_scale(options.clock_scale)
    return Reply(200, options.model_dump())


async def clock(context: RequestContext) -> Reply:
    now = context.sandbox.clock.now_ms()
    return Reply(200, {"nowMs": now, "now": iso_ms(now), "scale": context.sandbox.clock.scale})


async def advance_clock(context: RequestContext) -> Reply:
    seconds = (await context.json_object()).get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise validation_error("seconds must be a non-negative number")
    now = context.sandbox.clock.advance(float(seconds))
    return Reply(200, {"nowMs": now, "now": iso_ms(now), "scale": context.sandbox.clock.scale})


async def counters(context: RequestContext) -> Reply:
    hub = context.query.integer("hubId", 0)
    return Reply(200, context.sandbox.counters.snapshot(hub or None))


async def reset_counters(context: RequestContext) -> Reply:
    context.sandbox.counters.reset()
    for portal in context.sandbox.portals.values():
        portal.budget.clear_logs()
    return Reply(204)


async def list_portals(context: RequestContext) -> Reply:
    return Reply(
        200,
        {
            "results": [
                {
                    "hubId": portal.hub_id,
                    "privateAppTokens": sorted(portal.private_app_tokens),
                    "counts": {name: store.count() for name, store in portal.stores.items()},
                }
                for portal in context.sandbox.portals.values()
            ]
        },
    )


async def add_portal(context: RequestContext) -> Reply:
    body = await context.json_object() if await context.body() else {}
    try:
        portal = context.sandbox.add_portal(body.get("hubId"), body.get("privateAppToken"))
    except ValueError as error:
        raise ApiError(409, {"status": "error", "message": str(error), "category": "CONFLICT"}) from None
    return Reply(201, {"hubId": portal.hub_id, "privateAppToken": next(iter(portal.private_app_tokens))})


async def rate_windows(context: RequestContext) -> Reply:
    """How close a client came to a limit: the busiest window of attempts and of accepted calls, of the
    general budget (the 10-second window) or, with `budget=search`, of searches (5 per second)."""
    portal = _portal(context)
    budget = context.query.text("budget") or "general"
    if budget not in ("general", "search"):
        raise validation_error(f"budget must be general or search, not {budget!r}")
    search = budget == "search"
    options = context.sandbox.options
    width = context.query.integer("windowMs", ONE_SECOND_MS if search else TEN_SECONDS_MS)
    limit = context.query.integer("limit", options.search_per_second if search else options.burst_limit())
    attempts, accepted = portal.budget.log(budget)
    busiest, start = busiest_window(attempts, width)
    return Reply(
        200,
        {
            "budget": budget,
            "windowMs": width,
            "limit": limit,
            "attempts": len(attempts),
            "accepted": len(accepted),
            "maxAttemptsInWindow": busiest,
            "busiestWindowStart": start,
            "maxAcceptedInWindow": busiest_window(accepted, width)[0],
            "attemptsOverLimit": windows_over(attempts, width, limit),
        },
    )


async def ui_edit(context: RequestContext) -> Reply:
    """A person edits a record in HubSpot's UI: property history and webhooks say CRM_UI."""
    portal = _portal(context)
    object_type = resolve_object_type(context.params["objectType"])
    body = await context.json_object()
    record = find_record(portal, object_type, context.params["objectId"], body.get("idProperty"))
    if record is None:
        raise not_found(context.params["objectId"])
    changes, invalid = check_properties(portal, object_type, body.get("properties", {}), record.properties)
    if invalid:
        raise ApiError(400, invalid_property_error(invalid, portal.hub_id))
    user_id = int(body.get("userId", 4242))
    source = WriteSource("CRM_UI", f"userId:{user_id}", user_id)
    now = context.sandbox.clock.now_ms()
    update_record(portal, object_type, record, changes, now, context.sandbox.visible_at(now), source)
    return Reply(200, record_json(object_type, record, all_properties=True))


async def restore(context: RequestContext) -> Reply:
    """A person restores an archived record from HubSpot's recycle bin (fires `*.restore`)."""
    portal = _portal(context)
    object_type = resolve_object_type(context.params["objectType"])
    record = find_record(portal, object_type, context.params["objectId"], None, archived=True)
    if record is None:
        raise not_found(context.params["objectId"])
    owner = portal.store(object_type).unique_owner("email", record.properties.get("email", ""))
    if object_type.name == "contacts" and owner is not None:
        raise conflict_error(object_type, owner)  # its email was taken while it sat in the bin
    now = context.sandbox.clock.now_ms()
    portal.store(object_type).restore(record, context.sandbox.visible_at(now))
    emit_event(portal, object_type, "restore", record.id, now, WriteSource("CRM_UI", "userId:4242", 4242))
    return Reply(200, record_json(object_type, record, all_properties=True))


async def bulk_create(context: RequestContext) -> Reply:
    """Creates records fast, without the API's budget: `count` records from one template ("{i}" in a value
    becomes the index) stamped with one identical timestamp (as HubSpot's bulk jobs stamp them), or the given
    `records` ({"properties": {...}, "timestampMs": optional}, in order; their ids are returned in order):
    a benchmark loads a portal of a million contacts this way instead of 10,000 batch calls."""
    portal = _portal(context)
    object_type = resolve_object_type(context.params["objectType"])
    body = await context.json_object()
    template: dict[str, str] = body.get("properties") or {}
    at = int(body.get("timestampMs") or context.sandbox.clock.now_ms())
    source = WriteSource(str(body.get("changeSource", "IMPORT")))
    prefix = body.get("emailPrefix", "bulk")
    given = body.get("records")
    if given is not None and not isinstance(given, list):
        raise validation_error("records must be an array of {properties, timestampMs}")
    inputs = (
        [(item.get("properties") or {}, int(item.get("timestampMs") or at)) for item in given]
        if given is not None
        else [
            ({name: str(value).replace("{i}", str(index)) for name, value in template.items()}, at)
            for index in range(int(body.get("count", 0)))
        ]
    )
    ids = []
    for values, stamp in inputs:
        values = {name: str(value) for name, value in values.items()}
        if object_type.name == "contacts" and "email" not in values:
            values["email"] = f"{prefix}-{portal.next_id()}@example.com"
        changes, invalid = check_properties(portal, object_type, values, None)
        if invalid:
            raise ApiError(400, invalid_property_error(invalid, portal.hub_id))
        ids.append(create_record(portal, object_type, changes, stamp, None, source).id)
    first = ids[0] if ids else None
    reply: dict = {"created": len(ids), "firstId": first, "timestampMs": at}
    if given is not None:
        reply["ids"] = [str(i) for i in ids]
    return Reply(201, reply)


async def touch(context: RequestContext) -> Reply:
    """Sets the last-modified time of the given records (or all) to one identical timestamp, no webhooks:
    the month-end bulk update that breaks timestamp-only cursors."""
    portal = _portal(context)
    object_type = resolve_object_type(context.params["objectType"])
    body = await context.json_object()
    store = portal.store(object_type)
    at = int(body.get("timestampMs") or context.sandbox.clock.now_ms())
    ids = body.get("ids")
    records = (
        [store.records[int(i)] for i in ids if int(i) in store.records]
        if ids
        else [r for r in store.records.values() if not r.archived]
    )
    stamp = iso_ms(at)
    for record in records:
        properties = dict(record.properties)
        properties[object_type.last_modified_property] = stamp
        store.replace(record, properties, at, None)
    return Reply(200, {"touched": len(records), "timestampMs": at})


async def issue_token(context: RequestContext) -> Reply:
    portal = _portal(context)
    sandbox = context.sandbox
    body = await context.json_object() if await context.body() else {}
    scopes = list(
        body.get("scopes")
        or [
            "oauth",
            "crm.objects.contacts.read",
            "crm.objects.contacts.write",
            "crm.objects.companies.read",
            "crm.objects.companies.write",
            "timeline",
            "automation",
        ]
    )
    refresh = sandbox.tokens.new_refresh(portal.hub_id, sandbox.app.client_id, scopes)
    ttl = int(body.get("expiresIn") or sandbox.options.access_token_ttl_seconds)
    access = sandbox.tokens.new_access(
        portal.hub_id,
        sandbox.app.client_id,
        sandbox.app.app_id,
        scopes,
        sandbox.clock.now_ms(),
        ttl,
        refresh.token,
    )
    return Reply(
        201,
        {
            "access_token": access.token,
            "refresh_token": refresh.token,
            "expires_in": ttl,
            "hub_id": portal.hub_id,
            "scopes": scopes,
            "token_type": "bearer",
        },
    )


async def add_flow(context: RequestContext) -> Reply:
    portal = _portal(context)
    body = await context.json_object()
    now = context.sandbox.clock.now_ms()
    flow_id = str(body.get("id") or portal.next_id())
    flow = Flow(
        flow_id,
        int(body.get("workflowId") or portal.next_id()),
        str(body.get("name", f"Flow {flow_id}")),
        str(body.get("objectTypeId", "0-1")),
        bool(body.get("isEnabled", True)),
        now,
        now,
    )
    portal.flows[flow.id] = flow
    return Reply(201, {"id": flow.id, "workflowId": flow.workflow_id, "name": flow.name})


async def enrollments(context: RequestContext) -> Reply:
    portal = _portal(context)
    return Reply(
        200,
        {
            "results": [
                {
                    "workflowId": e.workflow_id,
                    "email": e.email,
                    "contactId": str(e.contact_id),
                    "active": e.active,
                    "enrolledAt": e.enrolled_ms,
                }
                for e in portal.enrollments
            ]
        },
    )


async def timeline_events(context: RequestContext) -> Reply:
    """Every timeline event of the portal (HubSpot has no list endpoint; tests and benchmarks count them)."""
    portal = _portal(context)
    return Reply(
        200,
        {
            "results": [
                {
                    "eventTemplateId": e.event_template_id,
                    "id": e.id,
                    "objectId": str(e.object_id),
                    "tokens": e.tokens,
                    "timestamp": e.timestamp_ms,
                    "createdAt": e.created_ms,
                }
                for e in portal.timeline_events.values()
            ]
        },
    )


async def gdpr_deletions(context: RequestContext) -> Reply:
    """Every GDPR delete the portal was asked for, with the id it deleted (None: not found), and the
    blocklisted emails (HubSpot shows neither through its API; tests look here)."""
    portal = _portal(context)
    return Reply(200, {"results": portal.gdpr_deletions, "blocklist": sorted(portal.gdpr_blocklist)})


async def webhook_state(context: RequestContext) -> Reply:
    dispatcher = context.sandbox.webhooks
    stats = dispatcher.stats
    return Reply(
        200,
        {
            "eventsQueued": stats.events_queued,
            "requestsSent": stats.requests_sent,
            "requestsFailed": stats.requests_failed,
            "eventsDelivered": stats.events_delivered,
            "eventsGivenUp": stats.events_given_up,
            "maxInFlight": stats.max_in_flight,
            "maxEventsPerRequest": stats.max_events_per_request,
            "pending": dispatcher.pending(),
            "inFlight": dispatcher.in_flight(),
            "retries": dispatcher.retry_schedule(),
            "attempts": [attempt.as_json() for attempt in stats.attempts],
        },
    )


async def flush_webhooks(context: RequestContext) -> Reply:
    await context.sandbox.webhooks.flush()
    return await webhook_state(context)


def register(router: Router) -> None:
    portal = ADMIN + "/portals/{hubId}"
    for method, path, handler in [
        ("GET", "/health", health),
        ("POST", "/reset", reset),
        ("GET", "/config", get_config),
        ("PATCH", "/config", patch_config),
        ("GET", "/clock", clock),
        ("POST", "/clock/advance", advance_clock),
        ("GET", "/counters", counters),
        ("DELETE", "/counters", reset_counters),
        ("GET", "/portals", list_portals),
        ("POST", "/portals", add_portal),
        ("GET", "/webhooks", webhook_state),
        ("POST", "/webhooks/flush", flush_webhooks),
    ]:
        router.add(method, ADMIN + path, handler, auth="admin", limit="none")
    for method, path, handler in [
        ("GET", "/rate-windows", rate_windows),
        ("POST", "/oauth-tokens", issue_token),
        ("POST", "/flows", add_flow),
        ("GET", "/enrollments", enrollments),
        ("GET", "/timeline-events", timeline_events),
        ("GET", "/gdpr-deletions", gdpr_deletions),
        ("POST", "/objects/{objectType}/bulk-create", bulk_create),
        ("POST", "/objects/{objectType}/touch", touch),
        ("POST", "/objects/{objectType}/{objectId}/ui-edit", ui_edit),
        ("POST", "/objects/{objectType}/{objectId}/restore", restore),
    ]:
        router.add(method, portal + path, handler, auth="admin", limit="none")
