"""Turning a change inside the sandbox into the webhook payloads HubSpot would send: which subscriptions
match it (`contact.creation`, `contact.propertyChange` for one property, `object.*` by objectTypeId, ...)
and each payload's fields."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.developer_app import Subscription
from hubspot_pipeline.sandbox.object_types import BY_TYPE_ID

# Keys of an internal change event that are copied into payloads as they are.
_PASSTHROUGH = (
    "objectId",
    "changeSource",
    "sourceId",
    "occurredAt",
    "propertyName",
    "propertyValue",
    "changeFlag",
    "primaryObjectId",
    "mergedObjectIds",
    "newObjectId",
    "numberOfPropertiesMoved",
    "associationType",
    "fromObjectId",
    "toObjectId",
    "associationRemoved",
    "isPrimaryAssociation",
)


def matches(subscription: Subscription, event: dict[str, Any]) -> bool:
    if not subscription.active:
        return False
    family, _, kind = subscription.event_type.partition(".")
    if kind != event["kind"]:
        return False
    object_type_id = event["objectTypeId"]
    if family == "object":
        if subscription.object_type_id and subscription.object_type_id != object_type_id:
            return False
    else:
        object_type = BY_TYPE_ID.get(object_type_id)
        if object_type is None or object_type.webhook_prefix != family:
            return False
    if kind == "propertyChange":
        return subscription.property_name == event.get("propertyName")
    return True


def payload(
    subscription: Subscription, event: dict[str, Any], event_id: int, hub_id: int, app_id: int
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventId": event_id,
        "subscriptionId": subscription.id,
        "portalId": hub_id,
        "appId": app_id,
        "occurredAt": event["occurredAt"],
        "subscriptionType": subscription.event_type,
        "attemptNumber": 0,
    }
    for key in _PASSTHROUGH:
        if key in event:
            body[key] = event[key]
    if subscription.event_type.startswith("object."):
        body["objectTypeId"] = event["objectTypeId"]
    return body
