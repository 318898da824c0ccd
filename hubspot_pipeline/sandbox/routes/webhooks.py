"""App webhook settings and subscriptions (/webhooks/v3/{appId}/...), with developer credentials.
Delivery itself is in webhook_dispatch.py."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.batch_results import batch_error, batch_reply
from hubspot_pipeline.sandbox.developer_app import Subscription, WebhookSettings
from hubspot_pipeline.sandbox.errors import ApiError, correlation_id, resource_not_found, validation_error
from hubspot_pipeline.sandbox.json_scalars import json_bool, json_int
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.timeutil import iso_ms

BASE = "/webhooks/v3/{appId}"
MAX_SUBSCRIPTIONS = 1_000
FAMILIES = {"contact", "company", "deal", "ticket", "line_item", "product", "object", "conversation"}
KINDS = {
    "creation",
    "deletion",
    "merge",
    "associationChange",
    "restore",
    "privacyDeletion",
    "propertyChange",
    "newMessage",
}


def _check_app(context: RequestContext) -> None:
    if context.params["appId"] != str(context.sandbox.app.app_id):
        raise resource_not_found(f"No app {context.params['appId']} for these developer credentials")


def _settings_json(settings: WebhookSettings) -> dict[str, Any]:
    return {
        "targetUrl": settings.target_url,
        "throttling": {"maxConcurrentRequests": settings.max_concurrent_requests, "period": settings.period},
        "createdAt": iso_ms(settings.created_ms),
        "updatedAt": iso_ms(settings.updated_ms),
    }


def _subscription_json(subscription: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(subscription.id),
        "eventType": subscription.event_type,
        "active": subscription.active,
        "createdAt": iso_ms(subscription.created_ms),
        "updatedAt": iso_ms(subscription.updated_ms),
    }
    if subscription.property_name:
        body["propertyName"] = subscription.property_name
    if subscription.object_type_id:
        body["objectTypeId"] = subscription.object_type_id
    return body


async def get_settings(context: RequestContext) -> Reply:
    _check_app(context)
    settings = context.sandbox.app.settings
    if settings is None:
        raise resource_not_found(f"No webhook settings for app {context.params['appId']}")
    return Reply(200, _settings_json(settings))


async def put_settings(context: RequestContext) -> Reply:
    _check_app(context)
    body = await context.json_object()
    target = body.get("targetUrl")
    throttling = body.get("throttling") if isinstance(body.get("throttling"), dict) else None
    if not isinstance(target, str) or not target.startswith(("http://", "https://")) or throttling is None:
        raise validation_error("targetUrl (an http(s) URL) and throttling are required")
    concurrent = json_int(throttling.get("maxConcurrentRequests"), "throttling.maxConcurrentRequests", 0)
    if concurrent <= 5:
        raise validation_error("throttling.maxConcurrentRequests must be a number greater than five")
    period = str(throttling.get("period", "SECONDLY"))
    if period not in ("SECONDLY", "ROLLING_MINUTE"):
        raise validation_error("throttling.period must be SECONDLY or ROLLING_MINUTE")
    app = context.sandbox.app
    created = app.settings.created_ms if app.settings else context.now_ms
    app.settings = WebhookSettings(target, concurrent, period, created, context.now_ms)
    return Reply(200, _settings_json(app.settings))


async def delete_settings(context: RequestContext) -> Reply:
    _check_app(context)
    context.sandbox.app.settings = None
    return Reply(204)


async def list_subscriptions(context: RequestContext) -> Reply:
    _check_app(context)
    return Reply(
        200, {"results": [_subscription_json(s) for s in context.sandbox.app.subscriptions.values()]}
    )


async def create_subscription(context: RequestContext) -> Reply:
    _check_app(context)
    app = context.sandbox.app
    body = await context.json_object()
    event_type = str(body.get("eventType", ""))
    family, _, kind = event_type.partition(".")
    if family not in FAMILIES or kind not in KINDS:
        raise validation_error(f"Unknown eventType {event_type!r}")
    if kind == "propertyChange":
        name = body.get("propertyName")
        if not name:
            raise validation_error("propertyChange subscriptions need a propertyName")
        if name in ("hs_lastmodifieddate", "num_unique_conversion_events"):
            raise validation_error(f"{name} cannot be used for propertyChange subscriptions")
    if len(app.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise ApiError(
            400,
            {
                "status": "error",
                "message": "Couldn't create another subscription. You've reached "
                "the maximum number allowed per application (1000).",
                "correlationId": correlation_id(),
                "category": "VALIDATION_ERROR",
            },
        )
    subscription = Subscription(
        app.next_subscription_id(),
        event_type,
        json_bool(body.get("active"), "active"),
        context.now_ms,
        context.now_ms,
        body.get("propertyName"),
        body.get("objectTypeId"),
    )
    app.subscriptions[subscription.id] = subscription
    return Reply(201, _subscription_json(subscription))


def _subscription(context: RequestContext, raw_id: str) -> Subscription:
    subscription = context.sandbox.app.subscriptions.get(int(raw_id)) if raw_id.isdigit() else None
    if subscription is None:
        raise resource_not_found(f"Subscription {raw_id} does not exist.")
    return subscription


async def get_subscription(context: RequestContext) -> Reply:
    _check_app(context)
    return Reply(200, _subscription_json(_subscription(context, context.params["subscriptionId"])))


async def patch_subscription(context: RequestContext) -> Reply:
    _check_app(context)
    subscription = _subscription(context, context.params["subscriptionId"])
    body = await context.json_object()
    if "active" in body:
        subscription.active = json_bool(body["active"], "active")
        subscription.updated_ms = context.now_ms
    return Reply(200, _subscription_json(subscription))


async def delete_subscription(context: RequestContext) -> Reply:
    _check_app(context)
    subscription = _subscription(context, context.params["subscriptionId"])
    del context.sandbox.app.subscriptions[subscription.id]
    return Reply(204)


async def batch_update(context: RequestContext) -> Reply:
    _check_app(context)
    inputs = (await context.json_object()).get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("Invalid input JSON: `inputs` must be an array.")
    results, errors = [], []
    for item in inputs:
        if not isinstance(item, dict):
            raise validation_error("Invalid input JSON: every input must be an object with id and active.")
        found = context.sandbox.app.subscriptions.get(json_int(item.get("id"), "inputs.id", 0))
        if found is None:
            errors.append(
                batch_error(
                    "OBJECT_NOT_FOUND",
                    f"Subscription {item.get('id')} does not exist.",
                    {"ids": [str(item.get("id"))]},
                )
            )
            continue
        found.active, found.updated_ms = json_bool(item.get("active"), "inputs.active"), context.now_ms
        results.append(_subscription_json(found))
    return batch_reply(results, errors, context.now_ms, context.now_ms)


def register(router: Router) -> None:
    developer = {"auth": "developer", "limit": "none"}
    router.add("GET", BASE + "/settings", get_settings, **developer)
    router.add("PUT", BASE + "/settings", put_settings, **developer)
    router.add("DELETE", BASE + "/settings", delete_settings, **developer)
    router.add("GET", BASE + "/subscriptions", list_subscriptions, **developer)
    router.add("POST", BASE + "/subscriptions", create_subscription, **developer)
    router.add("POST", BASE + "/subscriptions/batch/update", batch_update, **developer)
    router.add("GET", BASE + "/subscriptions/{subscriptionId}", get_subscription, **developer)
    router.add("PATCH", BASE + "/subscriptions/{subscriptionId}", patch_subscription, **developer)
    router.add("DELETE", BASE + "/subscriptions/{subscriptionId}", delete_subscription, **developer)
