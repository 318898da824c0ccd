"""Helpers the CRM route modules share: scopes per object type, reading and creating records."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.association_ops import check_spec, link
from hubspot_pipeline.sandbox.crm import check_properties, conflict_error, create_record, unique_owner
from hubspot_pipeline.sandbox.errors import ApiError, envelope, validation_error
from hubspot_pipeline.sandbox.lookup import find_record
from hubspot_pipeline.sandbox.object_types import ObjectType, resolve_object_type
from hubspot_pipeline.sandbox.records import CrmRecord
from hubspot_pipeline.sandbox.routing import RequestContext
from hubspot_pipeline.sandbox.values import invalid_property_error

READ_SCOPES = ("crm.objects.contacts.read", "crm.objects.companies.read", "sales-email-read")
WRITE_SCOPES = ("crm.objects.contacts.write", "crm.objects.companies.write")


def object_type_of(context: RequestContext, key: str = "objectType") -> ObjectType:
    object_type = resolve_object_type(context.params[key])
    _check_object_scope(context, object_type)
    return object_type


def _check_object_scope(context: RequestContext, object_type: ObjectType) -> None:
    auth = context.auth
    if auth is None or auth.scopes is None:
        return
    # Companies need their own scopes; emails and notes ride on the contacts scopes (reference §6.1).
    family = "companies" if object_type.name == "companies" else "contacts"
    write = context.request.method != "GET"
    needed = f"crm.objects.{family}.{'write' if write else 'read'}"
    if needed not in auth.scopes and not (object_type.name == "emails" and "sales-email-read" in auth.scopes):
        from hubspot_pipeline.sandbox.errors import missing_scopes

        raise missing_scopes((needed,))


def required_missing(object_type: ObjectType, properties: dict[str, str]) -> bool:
    return any(not properties.get(name) for name in object_type.required_on_create)


def required_error(object_type: ObjectType) -> ApiError:
    return validation_error(f"Error creating {object_type.label}. Some required properties were not set.")


def planned_associations(
    context: RequestContext, object_type: ObjectType, specs: Any
) -> list[tuple[ObjectType, int, str, int]]:
    """Validates `associations` of a create input: [(target type, target id, category, type id)]."""
    if specs in (None, []):
        return []
    if not isinstance(specs, list):
        raise validation_error("associations must be an array")
    planned = []
    for item in specs:
        if not isinstance(item, dict) or not isinstance(item.get("to"), dict):
            raise validation_error("every association needs `to` with an `id` and `types`")
        target_id = str(item["to"].get("id", ""))
        for spec in item.get("types") or []:
            category, type_id, target_type = check_spec(object_type, None, spec)
            if find_record(context.portal, target_type, target_id, None) is None:
                raise ApiError(
                    400,
                    envelope(
                        f"Could not find {target_type.label} with id {target_id} to associate.",
                        "VALIDATION_ERROR",
                        context={"id": [target_id]},
                    ),
                )
            planned.append((target_type, int(target_id), category, type_id))
    return planned


def create_one(context: RequestContext, object_type: ObjectType, body: dict[str, Any]) -> CrmRecord:
    """A single create (POST /objects/{type}), raising HubSpot's 400/409 bodies."""
    portal = context.portal
    changes, invalid = check_properties(portal, object_type, body.get("properties", {}), None)
    if invalid:
        raise ApiError(400, invalid_property_error(invalid, portal.hub_id))
    if required_missing(object_type, changes):
        raise required_error(object_type)
    owner = unique_owner(portal, object_type, changes, None)
    if owner is not None:
        raise conflict_error(object_type, owner)
    planned = planned_associations(context, object_type, body.get("associations"))
    record = create_record(
        portal, object_type, changes, context.now_ms, context.visible_at(), context.source()
    )
    for target_type, target_id, category, type_id in planned:
        link(
            portal,
            object_type,
            record.id,
            target_type,
            target_id,
            category,
            type_id,
            context.now_ms,
            context.source(),
        )
    return record
