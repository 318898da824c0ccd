"""Timeline events under /integrators/timeline/v3 (and the legacy /crm/v3/timeline): event templates with
developer credentials, events with an installing portal's OAuth token (private apps cannot). An event's
`id` is its idempotency key: sending it again is a 409 duplicate or, with `timeline_repeat="overwrite"`, the
same event overwritten (HubSpot documents neither); never a second event."""

from __future__ import annotations

import re
import uuid
from typing import Any

from hubspot_pipeline.sandbox.batch_results import batch_error, batch_reply
from hubspot_pipeline.sandbox.crm import check_properties, create_record, update_record
from hubspot_pipeline.sandbox.developer_app import EventTemplate
from hubspot_pipeline.sandbox.errors import ApiError, conflict, envelope, resource_not_found, validation_error
from hubspot_pipeline.sandbox.json_scalars import json_text
from hubspot_pipeline.sandbox.lookup import find_record
from hubspot_pipeline.sandbox.object_types import resolve_object_type
from hubspot_pipeline.sandbox.portal import TimelineEvent
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.timeutil import iso_ms, parse_epoch_ms

BASE = "/integrators/timeline/v3"
TOKEN_TYPES = {"date", "enumeration", "number", "string"}
TEMPLATE_OBJECT_TYPES = {"contacts", "companies", "deals", "tickets"}
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
EVENT_SCOPES = ("timeline", "crm.objects.contacts.write", "crm.objects.companies.write")


def _token(raw: Any, now_ms: int) -> dict[str, Any]:
    if (
        not isinstance(raw, dict)
        or not raw.get("name")
        or not raw.get("label")
        or raw.get("type") not in TOKEN_TYPES
    ):
        raise validation_error(
            f"Invalid token {raw!r}: name, label and a type among {sorted(TOKEN_TYPES)} are required"
        )
    if not _TOKEN_NAME.match(str(raw["name"])):
        raise validation_error(f"Token name {raw['name']!r} may hold only letters, digits, '.', '-' and '_'")
    options = raw.get("options") or []
    if raw["type"] == "enumeration" and not options:
        raise validation_error(f"Enumeration token {raw['name']} needs options")
    token = {
        "name": str(raw["name"]),
        "label": str(raw["label"]),
        "type": raw["type"],
        "options": [{"label": str(o["label"]), "value": str(o["value"])} for o in options],
        "createdAt": iso_ms(now_ms),
        "updatedAt": iso_ms(now_ms),
    }
    if raw.get("objectPropertyName"):
        token["objectPropertyName"] = str(raw["objectPropertyName"])
    return token


def _template_json(template: EventTemplate) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": template.id,
        "name": template.name,
        "objectType": template.object_type,
        "tokens": template.tokens,
        "createdAt": iso_ms(template.created_ms),
        "updatedAt": iso_ms(template.updated_ms),
    }
    for key, value in (
        ("headerTemplate", template.header_template),
        ("detailTemplate", template.detail_template),
    ):
        if value is not None:
            body[key] = value
    return body


def _check_app(context: RequestContext) -> None:
    if context.params["appId"] != str(context.sandbox.app.app_id):
        raise resource_not_found(f"No app {context.params['appId']} for these developer credentials")


def _template(context: RequestContext, template_id: str) -> EventTemplate:
    template = context.sandbox.app.templates.get(template_id)
    if template is None:
        raise resource_not_found(f"Event template {template_id} does not exist.")
    return template


async def list_templates(context: RequestContext) -> Reply:
    _check_app(context)
    return Reply(200, {"results": [_template_json(t) for t in context.sandbox.app.templates.values()]})


async def create_template(context: RequestContext) -> Reply:
    _check_app(context)
    body = await context.json_object()
    if not body.get("name") or body.get("objectType") not in TEMPLATE_OBJECT_TYPES or "tokens" not in body:
        raise validation_error(
            f"An event template needs name, tokens and objectType among {sorted(TEMPLATE_OBJECT_TYPES)}"
        )
    app, now = context.sandbox.app, context.now_ms
    template = EventTemplate(
        app.next_template_id(),
        str(body["name"]),
        str(body["objectType"]),
        body.get("headerTemplate"),
        body.get("detailTemplate"),
        [_token(t, now) for t in body["tokens"] or []],
        now,
        now,
    )
    app.templates[template.id] = template
    return Reply(201, _template_json(template))


async def get_template(context: RequestContext) -> Reply:
    _check_app(context)
    return Reply(200, _template_json(_template(context, context.params["eventTemplateId"])))


async def update_template(context: RequestContext) -> Reply:
    _check_app(context)
    template = _template(context, context.params["eventTemplateId"])
    body = await context.json_object()
    if not body.get("name") or "tokens" not in body:
        raise validation_error("An event template update needs id, name and tokens")
    template.name = str(body["name"])
    template.header_template = body.get("headerTemplate", template.header_template)
    template.detail_template = body.get("detailTemplate", template.detail_template)
    template.tokens = [_token(t, context.now_ms) for t in body["tokens"]]
    template.updated_ms = context.now_ms
    return Reply(200, _template_json(template))


async def delete_template(context: RequestContext) -> Reply:
    _check_app(context)
    _template(context, context.params["eventTemplateId"])
    del context.sandbox.app.templates[context.params["eventTemplateId"]]
    return Reply(204)


async def add_token(context: RequestContext) -> Reply:
    _check_app(context)
    template = _template(context, context.params["eventTemplateId"])
    token = _token(await context.json_object(), context.now_ms)
    if token["name"] in template.token_names():
        raise conflict(f"Token {token['name']} already exists on event template {template.id}.")
    template.tokens.append(token)
    return Reply(200, token)


async def update_token(context: RequestContext) -> Reply:
    _check_app(context)
    template = _template(context, context.params["eventTemplateId"])
    name = context.params["tokenName"]
    existing = next((t for t in template.tokens if t["name"] == name), None)
    if existing is None:
        raise resource_not_found(f"Token {name} does not exist on event template {template.id}.")
    body = await context.json_object()
    updated = _token({**existing, **body, "name": name}, context.now_ms)
    updated["createdAt"] = existing["createdAt"]
    template.tokens = [updated if t["name"] == name else t for t in template.tokens]
    return Reply(200, updated)


async def delete_token(context: RequestContext) -> Reply:
    _check_app(context)
    template = _template(context, context.params["eventTemplateId"])
    template.tokens = [t for t in template.tokens if t["name"] != context.params["tokenName"]]
    return Reply(204)


def _event_json(event: TimelineEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event.id,
        "eventTemplateId": event.event_template_id,
        "objectType": event.object_type,
        "objectId": str(event.object_id),
        "tokens": event.tokens,
        "timestamp": iso_ms(event.timestamp_ms),
        "createdAt": iso_ms(event.created_ms),
    }
    for key, value in (
        ("email", event.email),
        ("domain", event.domain),
        ("extraData", event.extra_data),
        ("timelineIFrame", event.timeline_iframe),
    ):
        if value is not None:
            body[key] = value
    return body


def _check_event_caller(context: RequestContext) -> None:
    if context.auth is not None and context.auth.kind == "private":
        raise ApiError(
            403,
            envelope(
                "Private apps cannot create timeline events. Use the OAuth access token of an "
                "app installed in this account.",
                "MISSING_SCOPES",
            ),
        )


def _create_event(context: RequestContext, raw: Any) -> TimelineEvent:
    if not isinstance(raw, dict) or not raw.get("eventTemplateId"):
        raise validation_error(
            "Cannot build TimelineEvent, some of required attributes are not set [eventTemplateId]"
        )
    portal, sandbox = context.portal, context.sandbox
    template = _template(context, str(raw["eventTemplateId"]))
    event_id = str(raw.get("id") or "{{uuid}}").replace("{{uuid}}", str(uuid.uuid4()))
    repeat = (template.id, event_id) in portal.timeline_events
    if repeat and sandbox.options.timeline_repeat == "conflict":
        raise conflict(
            f"An event with id {event_id} already exists for event template {template.id}.",
            context={"id": [event_id]},
        )
    tokens = {str(k): json_text(v, f"token {k}") for k, v in (raw.get("tokens") or {}).items()}
    unknown = sorted(set(tokens) - template.token_names())
    if unknown:
        raise validation_error(f"Tokens {unknown} are not defined on event template {template.id}.")
    object_type = resolve_object_type(template.object_type)
    record = None
    if raw.get("objectId") is not None:
        record = find_record(portal, object_type, str(raw["objectId"]), None)
    elif object_type.name == "contacts" and raw.get("email"):
        record = find_record(portal, object_type, str(raw["email"]), "email")
        if record is None:  # an unknown email creates the contact (reference §6.3)
            changes, _ = check_properties(portal, object_type, {"email": raw["email"]}, None)
            record = create_record(
                portal, object_type, changes, context.now_ms, context.visible_at(), context.source()
            )
    if record is None:
        raise validation_error(
            f"Could not find the {object_type.singular} this event is for; send objectId"
            + (" or email" if object_type.name == "contacts" else "")
        )
    stamped = {
        t["objectPropertyName"]: tokens[t["name"]]
        for t in template.tokens
        if t.get("objectPropertyName") and t["name"] in tokens
    }
    if stamped:
        changes, invalid = check_properties(portal, object_type, stamped, record.properties)
        if not invalid:
            update_record(
                portal, object_type, record, changes, context.now_ms, context.visible_at(), context.source()
            )
    timestamp = parse_epoch_ms(str(raw["timestamp"])) if raw.get("timestamp") else None
    # An overwrite keeps the id and the first creation time: still one event (`timeline_repeat`).
    first = portal.timeline_events.get((template.id, event_id))
    event = TimelineEvent(
        template.id,
        event_id,
        template.object_type,
        record.id,
        tokens,
        timestamp if timestamp is not None else context.now_ms,
        first.created_ms if first is not None else sandbox.clock.now_ms(),
        email=raw.get("email"),
        domain=raw.get("domain"),
        extra_data=raw.get("extraData"),
        timeline_iframe=raw.get("timelineIFrame"),
    )
    portal.timeline_events[(template.id, event_id)] = event
    return event


async def create_event(context: RequestContext) -> Reply:
    _check_event_caller(context)
    return Reply(201, _event_json(_create_event(context, await context.json_object())))


async def create_events(context: RequestContext) -> Reply:
    _check_event_caller(context)
    inputs = (await context.json_object()).get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("Invalid input JSON: `inputs` must be an array.")
    results, errors = [], []
    for raw in inputs:
        try:
            results.append(_event_json(_create_event(context, raw)))
        except ApiError as error:
            errors.append(
                batch_error(
                    error.body.get("category", "VALIDATION_ERROR"),
                    error.body["message"],
                    {"id": [str(raw.get("id")) if isinstance(raw, dict) else ""]},
                )
            )
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms(), ok_status=201)


async def get_event(context: RequestContext) -> Reply:
    key = (context.params["eventTemplateId"], context.params["eventId"])
    event = context.portal.timeline_events.get(key)
    if event is None:
        raise resource_not_found(f"Event {key[1]} of event template {key[0]} does not exist.")
    return Reply(200, _event_json(event))


_PLACEHOLDER = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
# {{#if name}}...{{else}}...{{/if}}, innermost first (a block holding no other block), as Handlebars nests them.
_IF_BLOCK = re.compile(
    r"\{\{#if\s+([\w.-]+)\s*\}\}((?:(?!\{\{#if).)*?)(?:\{\{else\}\}((?:(?!\{\{#if).)*?))?\{\{/if\}\}",
    re.DOTALL,
)


def _render(template_text: str | None, event: TimelineEvent) -> str:
    """Fills {{token}} and {{extraData.key}} placeholders and {{#if token}}...{{else}}...{{/if}} blocks, the
    subset of Handlebars event templates use most."""

    def lookup(name: str) -> str:
        if name.startswith("extraData.") and isinstance(event.extra_data, dict):
            return str(event.extra_data.get(name.split(".", 1)[1], ""))
        return event.tokens.get(name, "")

    text = template_text or ""
    while True:
        expanded = _IF_BLOCK.sub(lambda m: m.group(2) if lookup(m.group(1)) else (m.group(3) or ""), text)
        if expanded == text:
            break
        text = expanded
    return _PLACEHOLDER.sub(lambda m: lookup(m.group(1)), text)


def _stored_event(context: RequestContext) -> tuple[TimelineEvent, EventTemplate]:
    key = (context.params["eventTemplateId"], context.params["eventId"])
    event = context.portal.timeline_events.get(key)
    if event is None:
        raise resource_not_found(f"Event {key[1]} of event template {key[0]} does not exist.")
    return event, _template(context, key[0])


async def event_detail(context: RequestContext) -> Reply:
    event, template = _stored_event(context)
    return Reply(200, {"details": _render(template.detail_template, event)})


async def render_event(context: RequestContext) -> Reply:
    event, template = _stored_event(context)
    detail = context.query.flag("detail")
    html = _render(template.detail_template if detail else template.header_template, event)
    return Reply(200, raw=html.encode(), media_type="text/html;charset=utf-8")


def register(router: Router) -> None:
    developer = {"auth": "developer", "limit": "none"}
    templates = BASE + "/{appId}/event-templates"
    router.add("GET", templates, list_templates, **developer)
    router.add("POST", templates, create_template, **developer)
    router.add("GET", templates + "/{eventTemplateId}", get_template, **developer)
    router.add("PUT", templates + "/{eventTemplateId}", update_template, **developer)
    router.add("DELETE", templates + "/{eventTemplateId}", delete_template, **developer)
    router.add("POST", templates + "/{eventTemplateId}/tokens", add_token, **developer)
    router.add("PUT", templates + "/{eventTemplateId}/tokens/{tokenName}", update_token, **developer)
    router.add("DELETE", templates + "/{eventTemplateId}/tokens/{tokenName}", delete_token, **developer)
    router.add("POST", BASE + "/events", create_event, scopes=EVENT_SCOPES)
    router.add("POST", BASE + "/events/batch/create", create_events, scopes=EVENT_SCOPES)
    router.add("GET", BASE + "/events/{eventTemplateId}/{eventId}", get_event)
    router.add("GET", BASE + "/events/{eventTemplateId}/{eventId}/detail", event_detail)
    router.add("GET", BASE + "/events/{eventTemplateId}/{eventId}/render", render_event)
