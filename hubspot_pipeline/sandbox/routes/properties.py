"""/crm/v3/properties/{objectType}: list, read, create (type/fieldType validated, options for
enumerations, at most 10 unique properties, hasUniqueValue fixed at creation), update, archive, batch,
and property groups."""

from __future__ import annotations

import re
from typing import Any

from hubspot_pipeline.sandbox.batch_results import batch_error, batch_reply
from hubspot_pipeline.sandbox.errors import ApiError, conflict, envelope, resource_not_found, validation_error
from hubspot_pipeline.sandbox.json_scalars import json_bool, json_int
from hubspot_pipeline.sandbox.object_types import ObjectType, resolve_object_type
from hubspot_pipeline.sandbox.portal import PropertyGroup
from hubspot_pipeline.sandbox.property_defs import MAX_UNIQUE_PROPERTIES, VALID_FIELD_TYPES, PropertyDef
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.timeutil import iso_ms

BASE = "/crm/v3/properties/{objectType}"
SCHEMA_READ = ("crm.schemas.contacts.read", "crm.schemas.companies.read", "crm.objects.contacts.read")
SCHEMA_WRITE = ("crm.schemas.contacts.write", "crm.schemas.companies.write")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def property_json(definition: PropertyDef) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": definition.name,
        "label": definition.label,
        "type": definition.type,
        "fieldType": definition.field_type,
        "groupName": definition.group_name,
        "description": definition.description,
        "options": definition.options,
        "displayOrder": definition.display_order,
        "hasUniqueValue": definition.has_unique_value,
        "hidden": definition.hidden,
        "formField": definition.form_field,
        "calculated": definition.calculated,
        "externalOptions": definition.external_options,
        "hubspotDefined": definition.hubspot_defined,
        "archived": definition.archived,
        "modificationMetadata": {
            "archivable": not definition.hubspot_defined,
            "readOnlyDefinition": definition.hubspot_defined,
            "readOnlyValue": definition.read_only,
        },
    }
    if definition.created_ms:
        body["createdAt"] = iso_ms(definition.created_ms)
        body["updatedAt"] = iso_ms(definition.updated_ms)
    if definition.archived_ms is not None:
        body["archivedAt"] = iso_ms(definition.archived_ms)
    return body


def _group_json(group: PropertyGroup) -> dict[str, Any]:
    return {
        "name": group.name,
        "label": group.label,
        "displayOrder": group.display_order,
        "archived": group.archived,
    }


def _options(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise validation_error("options must be an array")
    options = []
    for index, option in enumerate(raw):
        if not isinstance(option, dict) or "label" not in option or "value" not in option:
            raise validation_error("every option needs a label and a value")
        options.append(
            {
                "label": str(option["label"]),
                "value": str(option["value"]),
                "hidden": json_bool(option.get("hidden"), "options.hidden"),
                "displayOrder": json_int(option.get("displayOrder"), "options.displayOrder", index),
                **({"description": option["description"]} if option.get("description") else {}),
            }
        )
    return options


def _create(context: RequestContext, object_type: ObjectType, body: dict[str, Any]) -> PropertyDef:
    portal = context.portal
    missing = [key for key in ("name", "label", "type", "fieldType", "groupName") if not body.get(key)]
    if missing:
        raise validation_error(f"Missing required fields: {', '.join(missing)}")
    name, kind, field_type = str(body["name"]), str(body["type"]), str(body["fieldType"])
    if not _NAME.match(name):
        raise validation_error(
            f"Property name {name!r} must start with a letter and hold only lowercase "
            "letters, digits and underscores"
        )
    if kind not in VALID_FIELD_TYPES:
        raise validation_error(f"Invalid type {kind!r}; expected one of {sorted(VALID_FIELD_TYPES)}")
    if field_type not in VALID_FIELD_TYPES[kind]:
        raise ApiError(
            400,
            envelope(
                f"Property type {kind} does not support field type {field_type}; use one of "
                f"{sorted(VALID_FIELD_TYPES[kind])}",
                "VALIDATION_ERROR",
                errors=[
                    {
                        "message": f"{field_type} is not valid for {kind}",
                        "code": "INVALID_FIELD_TYPE",
                        "context": {"fieldType": [field_type]},
                    }
                ],
            ),
        )
    options = _options(body.get("options"))
    if kind == "enumeration" and not options and field_type != "booleancheckbox":
        raise validation_error("Enumeration properties need options")
    definitions = portal.property_defs(object_type)
    existing = definitions.get(name)
    if existing is not None and not existing.archived:
        raise conflict(f"A property named '{name}' already exists.", context={"name": [name]})
    if body["groupName"] not in portal.groups[object_type.name]:
        raise validation_error(f"Property group {body['groupName']} does not exist.")
    unique = json_bool(body.get("hasUniqueValue"), "hasUniqueValue")
    if (
        unique
        and sum(1 for d in definitions.values() if d.has_unique_value and not d.archived)
        >= MAX_UNIQUE_PROPERTIES
    ):
        raise validation_error(f"An object can have at most {MAX_UNIQUE_PROPERTIES} unique value properties.")
    definition = PropertyDef(
        name,
        str(body["label"]),
        kind,
        field_type,
        str(body["groupName"]),
        str(body.get("description", "")),
        options,
        has_unique_value=unique,
        hubspot_defined=False,
        display_order=json_int(body.get("displayOrder"), "displayOrder", -1),
        hidden=json_bool(body.get("hidden"), "hidden"),
        form_field=json_bool(body.get("formField"), "formField"),
        external_options=json_bool(body.get("externalOptions"), "externalOptions"),
        created_ms=context.now_ms,
        updated_ms=context.now_ms,
    )
    definitions[name] = definition
    if unique:
        portal.store(object_type).add_unique_property(name)
    return definition


def _object_type(context: RequestContext) -> ObjectType:
    return resolve_object_type(context.params["objectType"])


def _find(context: RequestContext, object_type: ObjectType, name: str, archived: bool = False) -> PropertyDef:
    definition = context.portal.property_defs(object_type).get(name)
    if definition is None or definition.archived != archived:
        raise resource_not_found(f"Unable to find property {name} for object type {object_type.type_id}")
    return definition


async def list_properties(context: RequestContext) -> Reply:
    object_type = _object_type(context)
    archived = context.query.flag("archived")
    wanted = context.query.values("properties")
    names = set(wanted) if wanted else None
    results = [
        property_json(d)
        for d in context.portal.property_defs(object_type).values()
        if d.archived == archived and (names is None or d.name in names)
    ]
    return Reply(200, {"results": results})


async def create_property(context: RequestContext) -> Reply:
    return Reply(201, property_json(_create(context, _object_type(context), await context.json_object())))


async def get_property(context: RequestContext) -> Reply:
    object_type = _object_type(context)
    archived = context.query.flag("archived")
    return Reply(200, property_json(_find(context, object_type, context.params["propertyName"], archived)))


async def update_property(context: RequestContext) -> Reply:
    object_type = _object_type(context)
    definition = _find(context, object_type, context.params["propertyName"])
    body = await context.json_object()
    if "hasUniqueValue" in body:
        raise validation_error("hasUniqueValue cannot be changed after a property is created.")
    if definition.hubspot_defined and ({"type", "fieldType"} & body.keys()):
        raise validation_error(
            f"{definition.name} is a HubSpot default property; its type cannot be changed."
        )
    kind = str(body.get("type", definition.type))
    field_type = str(body.get("fieldType", definition.field_type))
    if kind not in VALID_FIELD_TYPES or field_type not in VALID_FIELD_TYPES[kind]:
        raise validation_error(f"Property type {kind} does not support field type {field_type}")
    definition.type, definition.field_type = kind, field_type
    for key, attribute in (
        ("label", "label"),
        ("description", "description"),
        ("groupName", "group_name"),
        ("displayOrder", "display_order"),
        ("hidden", "hidden"),
        ("formField", "form_field"),
    ):
        if key in body:
            setattr(definition, attribute, body[key])
    if "options" in body:
        definition.options = _options(body["options"])
    definition.updated_ms = context.now_ms
    return Reply(200, property_json(definition))


def _archive(context: RequestContext, object_type: ObjectType, name: str) -> None:
    definition = context.portal.property_defs(object_type).get(name)
    if definition is None or definition.archived:
        return
    if definition.hubspot_defined:
        raise validation_error(f"{name} is a HubSpot default property and cannot be archived.")
    definition.archived, definition.archived_ms = True, context.now_ms


async def archive_property(context: RequestContext) -> Reply:
    _archive(context, _object_type(context), context.params["propertyName"])
    return Reply(204)


async def batch_create(context: RequestContext) -> Reply:
    object_type = _object_type(context)
    results, errors = [], []
    for item in (await context.json_object()).get("inputs") or []:
        try:
            results.append(property_json(_create(context, object_type, item)))
        except ApiError as error:
            errors.append(
                batch_error(
                    error.body.get("category", "VALIDATION_ERROR"),
                    error.body["message"],
                    {"name": [str(item.get("name"))]},
                )
            )
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms(), ok_status=201)


async def batch_read(context: RequestContext) -> Reply:
    object_type = _object_type(context)
    body = await context.json_object()
    archived = json_bool(body.get("archived"), "archived")
    definitions = context.portal.property_defs(object_type)
    results, missing = [], []
    for item in body.get("inputs") or []:
        definition = definitions.get(str(item.get("name")))
        if definition is None or definition.archived != archived:
            missing.append(str(item.get("name")))
        else:
            results.append(property_json(definition))
    errors = (
        [batch_error("OBJECT_NOT_FOUND", "Some properties were not found.", {"names": missing})]
        if missing
        else []
    )
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms())


async def batch_archive(context: RequestContext) -> Reply:
    object_type = _object_type(context)
    for item in (await context.json_object()).get("inputs") or []:
        _archive(context, object_type, str(item.get("name")))
    return Reply(204)


async def list_groups(context: RequestContext) -> Reply:
    groups = context.portal.groups[_object_type(context).name]
    return Reply(200, {"results": [_group_json(g) for g in groups.values() if not g.archived]})


def _group(context: RequestContext) -> PropertyGroup:
    groups = context.portal.groups[_object_type(context).name]
    group = groups.get(context.params["groupName"])
    if group is None or group.archived:
        raise resource_not_found(f"Unable to find property group {context.params['groupName']}")
    return group


async def create_group(context: RequestContext) -> Reply:
    groups = context.portal.groups[_object_type(context).name]
    body = await context.json_object()
    if not body.get("name") or not body.get("label"):
        raise validation_error("A property group needs a name and a label")
    name = str(body["name"])
    if name in groups and not groups[name].archived:
        raise conflict(f"A property group named '{name}' already exists.")
    display_order = json_int(body.get("displayOrder"), "displayOrder", -1)
    groups[name] = PropertyGroup(name, str(body["label"]), display_order)
    return Reply(201, _group_json(groups[name]))


async def get_group(context: RequestContext) -> Reply:
    return Reply(200, _group_json(_group(context)))


async def update_group(context: RequestContext) -> Reply:
    group = _group(context)
    body = await context.json_object()
    group.label = str(body.get("label", group.label))
    group.display_order = json_int(body.get("displayOrder"), "displayOrder", group.display_order)
    return Reply(200, _group_json(group))


async def archive_group(context: RequestContext) -> Reply:
    _group(context).archived = True
    return Reply(204)


def register(router: Router) -> None:
    read, write = {"scopes": SCHEMA_READ}, {"scopes": SCHEMA_WRITE}
    router.add("GET", BASE + "/groups", list_groups, **read)
    router.add("POST", BASE + "/groups", create_group, **write)
    router.add("GET", BASE + "/groups/{groupName}", get_group, **read)
    router.add("PATCH", BASE + "/groups/{groupName}", update_group, **write)
    router.add("DELETE", BASE + "/groups/{groupName}", archive_group, **write)
    router.add("POST", BASE + "/batch/create", batch_create, **write)
    router.add("POST", BASE + "/batch/read", batch_read, **read)
    router.add("POST", BASE + "/batch/archive", batch_archive, **write)
    router.add("GET", BASE, list_properties, **read)
    router.add("POST", BASE, create_property, **write)
    router.add("GET", BASE + "/{propertyName}", get_property, **read)
    router.add("PATCH", BASE + "/{propertyName}", update_property, **write)
    router.add("DELETE", BASE + "/{propertyName}", archive_property, **write)
