"""Single-record CRM endpoints: list (cursor paging), get (by id or idProperty), create, update, archive."""

from __future__ import annotations

from hubspot_pipeline.sandbox.association_ops import v3_associations
from hubspot_pipeline.sandbox.crm import (
    archive_record,
    check_properties,
    conflict_error,
    unique_owner,
    update_record,
)
from hubspot_pipeline.sandbox.errors import ApiError, not_found, validation_error
from hubspot_pipeline.sandbox.lookup import check_id_property, find_record
from hubspot_pipeline.sandbox.routes.common import READ_SCOPES, WRITE_SCOPES, create_one, object_type_of
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.serialize import record_json
from hubspot_pipeline.sandbox.values import invalid_property_error

OBJECTS = "/crm/v3/objects/{objectType}"
LIST_DEFAULT, LIST_MAX, LIST_MAX_WITH_HISTORY = 10, 100, 50


async def list_objects(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    query = context.query
    with_history = query.values("propertiesWithHistory")
    limit = query.limit(LIST_DEFAULT, LIST_MAX_WITH_HISTORY if with_history else LIST_MAX)
    after_raw = query.text("after")
    if after_raw and not after_raw.isdigit():
        raise validation_error(
            f"Invalid paging cursor after={after_raw!r}; pass back paging.next.after as given."
        )
    after = int(after_raw) if after_raw else None
    archived = query.flag("archived")
    requested = query.values("properties")
    associations = query.values("associations")
    records, next_after = context.portal.store(object_type).page(after, limit, archived)
    null = context.sandbox.options.empty_properties == "null"
    results = []
    for record in records:
        item = record_json(object_type, record, requested, with_history=with_history, empty_as_null=null)
        if associations:
            block = v3_associations(context.portal, object_type, record.id, associations)
            if block:
                item["associations"] = block
        results.append(item)
    body: dict = {"results": results}
    if next_after is not None:
        body["paging"] = {"next": {"after": str(next_after), "link": f"?after={next_after}"}}
    return Reply(200, body)


async def get_object(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    query = context.query
    id_property = query.text("idProperty")
    check_id_property(context.portal, object_type, id_property)
    object_id = context.params["objectId"]
    record = find_record(context.portal, object_type, object_id, id_property, query.flag("archived"))
    if record is None:
        raise not_found(object_id)
    null = context.sandbox.options.empty_properties == "null"
    body = record_json(
        object_type,
        record,
        query.values("properties"),
        with_history=query.values("propertiesWithHistory"),
        empty_as_null=null,
    )
    associations = query.values("associations")
    if associations:
        block = v3_associations(context.portal, object_type, record.id, associations)
        if block:
            body["associations"] = block
    return Reply(200, body)


async def create_object(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    body = await context.json_object()
    record = create_one(context, object_type, body)
    return Reply(201, record_json(object_type, record, all_properties=True))


async def update_object(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    portal = context.portal
    id_property = context.query.text("idProperty")
    check_id_property(portal, object_type, id_property)
    object_id = context.params["objectId"]
    body = await context.json_object()
    raw = body.get("properties")
    if not raw:
        raise validation_error("No properties found to update, please provide at least one.")
    record = find_record(portal, object_type, object_id, id_property)
    if record is None:
        raise not_found(object_id)
    changes, invalid = check_properties(portal, object_type, raw, record.properties)
    if invalid:
        raise ApiError(400, invalid_property_error(invalid, portal.hub_id))
    owner = unique_owner(portal, object_type, changes, record.id)
    if owner is not None:
        raise conflict_error(object_type, owner)
    update_record(
        portal, object_type, record, changes, context.now_ms, context.visible_at(), context.source()
    )
    return Reply(200, record_json(object_type, record, all_properties=True))


async def archive_object(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    object_id = context.params["objectId"]
    record = find_record(context.portal, object_type, object_id, None)
    if record is not None:
        archive_record(
            context.portal, object_type, record, context.now_ms, context.visible_at(), context.source()
        )
    return Reply(204)  # archiving what is already gone is not an error


def register(router: Router) -> None:
    router.add("GET", OBJECTS, list_objects, scopes=READ_SCOPES)
    router.add("POST", OBJECTS, create_object, scopes=WRITE_SCOPES)
    router.add("GET", OBJECTS + "/{objectId}", get_object, scopes=READ_SCOPES)
    router.add("PATCH", OBJECTS + "/{objectId}", update_object, scopes=WRITE_SCOPES)
    router.add("DELETE", OBJECTS + "/{objectId}", archive_object, scopes=WRITE_SCOPES)
