"""Batch CRM endpoints with HubSpot's status rules: 200/201 when all succeed, 207 for partial results
(reads and updates with missing ids; creates only when every input has an objectWriteTraceId), a whole
request 400/409 otherwise, 204 for archive; at most 100 inputs (50 with property history)."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.batch_results import batch_error, batch_reply, not_found_error
from hubspot_pipeline.sandbox.crm import (
    archive_record,
    check_properties,
    conflict_error,
    create_record,
    unique_owner,
    update_record,
)
from hubspot_pipeline.sandbox.errors import ApiError, validation_error
from hubspot_pipeline.sandbox.lookup import check_batch_size, check_id_property, find_record
from hubspot_pipeline.sandbox.routes.common import (
    READ_SCOPES,
    WRITE_SCOPES,
    create_one,
    object_type_of,
    required_error,
    required_missing,
)
from hubspot_pipeline.sandbox.routes.upsert import upsert
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.serialize import record_json
from hubspot_pipeline.sandbox.values import invalid_property_error

BATCH = "/crm/v3/objects/{objectType}/batch"


def _traced(inputs: list[dict[str, Any]]) -> bool:
    """Per-record results need a distinct objectWriteTraceId on every input (reference §2.3)."""
    traces = [item.get("objectWriteTraceId") for item in inputs]
    return bool(traces) and all(traces) and len(set(traces)) == len(traces)


async def batch_read(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    body = await context.json_object()
    with_history = body.get("propertiesWithHistory") or None
    inputs = check_batch_size(body.get("inputs"), with_history=bool(with_history))
    id_property = body.get("idProperty")
    check_id_property(context.portal, object_type, id_property)
    archived = context.query.flag("archived")
    requested = body.get("properties") or None
    null = context.sandbox.options.empty_properties == "null"
    results, missing, seen = [], [], set()
    for item in inputs:
        value = str(item.get("id", ""))
        record = find_record(context.portal, object_type, value, id_property, archived)
        if record is None:
            missing.append(value)
        elif record.id not in seen:
            seen.add(record.id)
            results.append(
                record_json(object_type, record, requested, with_history=with_history, empty_as_null=null)
            )
    errors = [not_found_error(object_type, missing)] if missing else []
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms())


async def batch_create(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    portal = context.portal
    inputs = check_batch_size((await context.json_object()).get("inputs"))
    if not _traced(inputs):
        # All or nothing: check every input (values, required, uniqueness, duplicates) before writing any.
        seen_unique: dict[tuple[str, str], int] = {}
        for position, item in enumerate(inputs):
            changes, invalid = check_properties(portal, object_type, item.get("properties", {}), None)
            if invalid:
                raise ApiError(400, invalid_property_error(invalid, portal.hub_id))
            if required_missing(object_type, changes):
                raise required_error(object_type)
            owner = unique_owner(portal, object_type, changes, None)
            if owner is not None:
                raise conflict_error(object_type, owner)  # names only the first conflict, as HubSpot does
            for name in portal.store(object_type).unique_properties().intersection(changes):
                key = (name, changes[name].lower())
                if changes[name] and key in seen_unique:
                    raise validation_error(
                        f"Duplicate values for unique property {name} in batch inputs "
                        f"{seen_unique[key]} and {position}: {changes[name]}"
                    )
                seen_unique[key] = position
    results, errors = [], []
    for item in inputs:
        try:
            record = create_one(context, object_type, item)
        except ApiError as error:
            errors.append(
                batch_error(
                    error.body.get("category", "VALIDATION_ERROR"),
                    error.body.get("message", ""),
                    {"objectWriteTraceId": [str(item.get("objectWriteTraceId"))]},
                    error.body.get("errors"),
                )
            )
            continue
        result = record_json(object_type, record, all_properties=True)
        if item.get("objectWriteTraceId"):
            result["objectWriteTraceId"] = str(item["objectWriteTraceId"])
        results.append(result)
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms(), ok_status=201)


async def batch_update(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    portal = context.portal
    inputs = check_batch_size((await context.json_object()).get("inputs"))
    traced = _traced(inputs)
    planned, missing, seen, errors = [], [], {}, []
    for item in inputs:
        id_property = item.get("idProperty")
        check_id_property(portal, object_type, id_property)
        value = str(item.get("id", ""))
        record = find_record(portal, object_type, value, id_property)
        if record is None:
            missing.append(value)
            continue
        if record.id in seen:
            raise validation_error(f"Duplicate IDs found in batch input: [{record.id}]. IDs must be unique")
        seen[record.id] = True
        changes, invalid = check_properties(
            portal, object_type, item.get("properties", {}), record.properties
        )
        owner = None if invalid else unique_owner(portal, object_type, changes, record.id)
        if invalid or owner is not None:
            error = (
                conflict_error(object_type, owner)
                if owner is not None
                else ApiError(400, invalid_property_error(invalid, portal.hub_id))
            )
            if not traced:
                raise error
            errors.append(
                batch_error(
                    error.body["category"],
                    error.body["message"],
                    {"objectWriteTraceId": [str(item["objectWriteTraceId"])]},
                )
            )
            continue
        planned.append((record, changes, item.get("objectWriteTraceId")))
    results = []
    for record, changes, trace in planned:
        update_record(
            portal, object_type, record, changes, context.now_ms, context.visible_at(), context.source()
        )
        result = record_json(object_type, record, all_properties=True)
        if trace:
            result["objectWriteTraceId"] = str(trace)
        results.append(result)
    if missing:
        errors.insert(0, not_found_error(object_type, missing))
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms())


async def batch_upsert(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    inputs = check_batch_size((await context.json_object()).get("inputs"))
    results, errors = upsert(context, object_type, inputs, traced=_traced(inputs))
    return batch_reply(results, errors, context.now_ms, context.sandbox.clock.now_ms())


async def batch_archive(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    inputs = check_batch_size((await context.json_object()).get("inputs"))
    for item in inputs:
        record = find_record(context.portal, object_type, str(item.get("id", "")), None)
        if record is not None:
            archive_record(
                context.portal, object_type, record, context.now_ms, context.visible_at(), context.source()
            )
    return Reply(204)


def register(router: Router) -> None:
    router.add("POST", BATCH + "/read", batch_read, scopes=READ_SCOPES)
    router.add("POST", BATCH + "/create", batch_create, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/update", batch_update, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/upsert", batch_upsert, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/archive", batch_archive, scopes=WRITE_SCOPES)


__all__ = ["create_record", "register"]
