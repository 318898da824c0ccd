"""batch/upsert: create or update by a unique property (email, or a custom `hasUniqueValue` property);
every result says whether it was `new`. By email it is all or nothing ("partial upserts are not
supported when using email as the idProperty"); by another unique property with objectWriteTraceIds
on every input, failures come back per input in a 207."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.batch_results import batch_error, not_found_error
from hubspot_pipeline.sandbox.crm import (
    check_properties,
    conflict_error,
    create_record,
    unique_owner,
    update_record,
)
from hubspot_pipeline.sandbox.errors import ApiError, validation_error
from hubspot_pipeline.sandbox.lookup import check_id_property, find_record
from hubspot_pipeline.sandbox.object_types import ObjectType
from hubspot_pipeline.sandbox.records import CrmRecord
from hubspot_pipeline.sandbox.routes.common import required_error, required_missing
from hubspot_pipeline.sandbox.routing import RequestContext
from hubspot_pipeline.sandbox.serialize import record_json
from hubspot_pipeline.sandbox.values import invalid_property_error


def upsert(
    context: RequestContext, object_type: ObjectType, inputs: list[dict[str, Any]], *, traced: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    portal = context.portal
    plans: list[tuple[CrmRecord | None, dict[str, str], Any]] = []
    errors: list[dict[str, Any]] = []
    missing: list[str] = []
    keys_seen: set[str] = set()
    partial_allowed = traced
    for item in inputs:
        id_property = item.get("idProperty") or None
        check_id_property(portal, object_type, id_property)
        if id_property == "email":
            partial_allowed = False
        value = str(item.get("id", "")).strip()
        if not value:
            raise validation_error("Every upsert input needs an `id` holding the value of its idProperty.")
        key = value.lower() if id_property == "email" else value
        if key in keys_seen:
            # Two inputs resolving to one record are rejected (reference §2.4).
            raise validation_error(f"Duplicate IDs found in batch input: [{value}]. IDs must be unique")
        keys_seen.add(key)
        record = find_record(portal, object_type, value, id_property)
        if record is None and id_property is None:
            missing.append(value)
            continue
        raw = dict(item.get("properties") or {})
        if record is None and id_property is not None:
            raw.setdefault(id_property, value)
        changes, invalid = check_properties(portal, object_type, raw, record.properties if record else None)
        problem: ApiError | None = None
        if invalid:
            problem = ApiError(400, invalid_property_error(invalid, portal.hub_id))
        elif record is None and required_missing(object_type, changes):
            problem = required_error(object_type)
        else:
            owner = unique_owner(portal, object_type, changes, record.id if record else None)
            if owner is not None:
                problem = conflict_error(object_type, owner)
        if problem is not None:
            if not partial_allowed:
                raise problem
            errors.append(
                batch_error(
                    problem.body["category"],
                    problem.body["message"],
                    {"objectWriteTraceId": [str(item.get("objectWriteTraceId"))]},
                    problem.body.get("errors"),
                )
            )
            continue
        plans.append((record, changes, item.get("objectWriteTraceId")))

    results = []
    source = context.source()
    for record, changes, trace in plans:
        if record is None:
            owner = unique_owner(portal, object_type, changes, None)
            if owner is not None:  # an earlier input of this batch took the value
                if not partial_allowed:
                    raise conflict_error(object_type, owner)
                errors.append(
                    batch_error(
                        "CONFLICT",
                        f"{object_type.label.title()} already exists. Existing ID: {owner}",
                        {"objectWriteTraceId": [str(trace)]},
                    )
                )
                continue
            record = create_record(portal, object_type, changes, context.now_ms, context.visible_at(), source)
            new = True
        else:
            update_record(portal, object_type, record, changes, context.now_ms, context.visible_at(), source)
            new = False
        result = record_json(object_type, record, all_properties=True)
        result["new"] = new
        if trace:
            result["objectWriteTraceId"] = str(trace)
        results.append(result)
    if missing:
        errors.insert(0, not_found_error(object_type, missing))
    return results, errors
