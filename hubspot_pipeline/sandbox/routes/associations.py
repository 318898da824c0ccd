"""Associations v4: record-level (default, labeled, list, remove) and batch (associate default, create,
read, archive, archive labels), plus the legacy v3 PUT/DELETE with a type id in the path."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.association_ops import (
    HUBSPOT_DEFINED,
    check_spec,
    link,
    unlink_pair,
    v3_associations,
)
from hubspot_pipeline.sandbox.association_types import DEFAULT_TYPE, KINDS
from hubspot_pipeline.sandbox.batch_results import batch_error, batch_reply
from hubspot_pipeline.sandbox.errors import not_found, validation_error
from hubspot_pipeline.sandbox.lookup import find_record
from hubspot_pipeline.sandbox.object_types import ObjectType
from hubspot_pipeline.sandbox.routes.common import READ_SCOPES, WRITE_SCOPES, object_type_of
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.serialize import record_json

RECORD = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"
BATCH = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch"
MAX_READ_INPUTS, MAX_CREATE_INPUTS = 1_000, 2_000


def _labels_json(
    labels: set[tuple[str, int]], from_type: ObjectType, to_type: ObjectType
) -> list[dict[str, Any]]:
    items = []
    for category, type_id in sorted(labels, key=lambda label: label[1]):
        kind = KINDS.get(type_id)
        item: dict[str, Any] = {"category": category, "typeId": type_id}
        if kind is not None and kind.label:
            item["label"] = kind.label
        items.append(item)
    return items


def _existing(context: RequestContext, object_type: ObjectType, object_id: str) -> int:
    if find_record(context.portal, object_type, object_id, None) is None:
        raise not_found(object_id)
    return int(object_id)


def _pair_json(
    from_type: ObjectType, from_id: int, to_type: ObjectType, to_id: int, labels: set
) -> dict[str, Any]:
    return {
        "fromObjectTypeId": from_type.type_id,
        "fromObjectId": str(from_id),
        "toObjectTypeId": to_type.type_id,
        "toObjectId": str(to_id),
        "labels": [KINDS[t].label for _, t in sorted(labels) if t in KINDS and KINDS[t].label],
    }


def _default_type(from_type: ObjectType, to_type: ObjectType) -> int:
    type_id = DEFAULT_TYPE.get((from_type.type_id, to_type.type_id))
    if type_id is None:
        raise validation_error(f"No default association between {from_type.type_id} and {to_type.type_id}")
    return type_id


async def associate_default(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context, "fromObjectType"), object_type_of(context, "toObjectType")
    from_id = _existing(context, from_type, context.params["fromObjectId"])
    to_id = _existing(context, to_type, context.params["toObjectId"])
    type_id = _default_type(from_type, to_type)
    link(
        context.portal,
        from_type,
        from_id,
        to_type,
        to_id,
        HUBSPOT_DEFINED,
        type_id,
        context.now_ms,
        context.source(),
    )
    result = {
        "from": {"id": str(from_id)},
        "to": {"id": str(to_id)},
        "associationSpec": {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": type_id},
    }
    return batch_reply([result], [], context.now_ms, context.now_ms)


async def associate_labels(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context), object_type_of(context, "toObjectType")
    from_id = _existing(context, from_type, context.params["objectId"])
    to_id = _existing(context, to_type, context.params["toObjectId"])
    specs = await context.json()
    if not isinstance(specs, list) or not specs:
        raise validation_error("The body must be a non-empty array of association types")
    checked = [check_spec(from_type, to_type, spec) for spec in specs]
    portal = context.portal
    # PUT replaces the labels between the pair (reference §5.1).
    portal.associations.remove_pair((from_type.type_id, from_id), (to_type.type_id, to_id))
    for category, type_id, _ in checked:
        link(portal, from_type, from_id, to_type, to_id, category, type_id, context.now_ms, context.source())
    labels = portal.associations.labels((from_type.type_id, from_id), to_type.type_id, to_id)
    return Reply(201, _pair_json(from_type, from_id, to_type, to_id, labels))


async def remove_pair(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context), object_type_of(context, "toObjectType")
    from_id, to_id = context.params["objectId"], context.params["toObjectId"]
    if from_id.isdigit() and to_id.isdigit():
        unlink_pair(
            context.portal, from_type, int(from_id), to_type, int(to_id), context.now_ms, context.source()
        )
    return Reply(204)


def _targets_json(
    context: RequestContext,
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    after: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    targets = context.portal.associations.targets((from_type.type_id, from_id), to_type.type_id)
    ordered = sorted(to_id for to_id in targets if after is None or to_id > after)
    page = ordered[:limit]
    results = [
        {"toObjectId": str(to_id), "associationTypes": _labels_json(targets[to_id], from_type, to_type)}
        for to_id in page
    ]
    return results, (page[-1] if len(ordered) > limit else None)


async def list_associations(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context), object_type_of(context, "toObjectType")
    from_id = _existing(context, from_type, context.params["objectId"])
    after_raw = context.query.text("after")
    limit = context.query.limit(500, 500)
    results, next_after = _targets_json(
        context,
        from_type,
        from_id,
        to_type,
        int(after_raw) if after_raw and after_raw.isdigit() else None,
        limit,
    )
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        body["paging"] = {"next": {"after": str(next_after)}}
    return Reply(200, body)


def _inputs(body: dict[str, Any], maximum: int) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("Invalid input JSON: `inputs` must be an array.")
    if len(inputs) > maximum:
        raise validation_error(f"Batch input limit exceeded: {len(inputs)} inputs, the maximum is {maximum}.")
    return inputs


def _id_of(item: Any, key: str) -> str:
    value = item.get(key) if isinstance(item, dict) else None
    return str(value.get("id", "")) if isinstance(value, dict) else ""


async def batch_associate_default(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context, "fromObjectType"), object_type_of(context, "toObjectType")
    type_id = _default_type(from_type, to_type)
    results, errors = [], []
    for item in _inputs(await context.json_object(), MAX_CREATE_INPUTS):
        from_id, to_id = _id_of(item, "from"), _id_of(item, "to")
        missing = [
            i
            for t, i in ((from_type, from_id), (to_type, to_id))
            if find_record(context.portal, t, i, None) is None
        ]
        if missing:
            errors.append(batch_error("OBJECT_NOT_FOUND", "Some objects were not found.", {"ids": missing}))
            continue
        link(
            context.portal,
            from_type,
            int(from_id),
            to_type,
            int(to_id),
            HUBSPOT_DEFINED,
            type_id,
            context.now_ms,
            context.source(),
        )
        results.append(
            {
                "from": {"id": from_id},
                "to": {"id": to_id},
                "associationSpec": {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": type_id},
            }
        )
    reply = batch_reply(results, errors, context.now_ms, context.now_ms)
    reply.status = 200  # this endpoint reports errors inside a 200 (its spec has no 207)
    return reply


async def batch_create(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context, "fromObjectType"), object_type_of(context, "toObjectType")
    portal = context.portal
    results, errors = [], []
    for item in _inputs(await context.json_object(), MAX_CREATE_INPUTS):
        from_id, to_id = _id_of(item, "from"), _id_of(item, "to")
        missing = [
            i for t, i in ((from_type, from_id), (to_type, to_id)) if find_record(portal, t, i, None) is None
        ]
        if missing:
            errors.append(batch_error("OBJECT_NOT_FOUND", "Some objects were not found.", {"ids": missing}))
            continue
        checked = [check_spec(from_type, to_type, spec) for spec in item.get("types") or []]
        for category, type_id, _ in checked:
            link(
                portal,
                from_type,
                int(from_id),
                to_type,
                int(to_id),
                category,
                type_id,
                context.now_ms,
                context.source(),
            )
        labels = portal.associations.labels((from_type.type_id, int(from_id)), to_type.type_id, int(to_id))
        results.append(_pair_json(from_type, int(from_id), to_type, int(to_id), labels))
    return batch_reply(results, errors, context.now_ms, context.now_ms, ok_status=201)


async def batch_read(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context, "fromObjectType"), object_type_of(context, "toObjectType")
    results, missing = [], []
    for item in _inputs(await context.json_object(), MAX_READ_INPUTS):
        from_id = str(item.get("id", "")) if isinstance(item, dict) else ""
        if find_record(context.portal, from_type, from_id, None) is None:
            missing.append(from_id)
            continue
        after = item.get("after")
        targets, next_after = _targets_json(
            context,
            from_type,
            int(from_id),
            to_type,
            int(after) if after and str(after).isdigit() else None,
            500,
        )
        if not targets:
            missing.append(from_id)  # HubSpot reports records without associations as errors too
            continue
        result: dict[str, Any] = {"from": {"id": from_id}, "to": targets}
        if next_after is not None:
            result["paging"] = {"next": {"after": str(next_after)}}
        results.append(result)
    errors = (
        [
            batch_error(
                "NO_ASSOCIATIONS_FOUND",
                f"No {to_type.singular} is associated with {from_type.singular} {', '.join(missing)}.",
                {"fromObjectId": missing},
            )
        ]
        if missing
        else []
    )
    return batch_reply(results, errors, context.now_ms, context.now_ms)


async def batch_archive(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context, "fromObjectType"), object_type_of(context, "toObjectType")
    for item in _inputs(await context.json_object(), MAX_CREATE_INPUTS):
        from_id = _id_of(item, "from")
        for target in item.get("to") or []:
            to_id = str(target.get("id", "")) if isinstance(target, dict) else ""
            if from_id.isdigit() and to_id.isdigit():
                unlink_pair(
                    context.portal,
                    from_type,
                    int(from_id),
                    to_type,
                    int(to_id),
                    context.now_ms,
                    context.source(),
                )
    return Reply(204)


async def batch_archive_labels(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context, "fromObjectType"), object_type_of(context, "toObjectType")
    store = context.portal.associations
    for item in _inputs(await context.json_object(), MAX_CREATE_INPUTS):
        from_id, to_id = _id_of(item, "from"), _id_of(item, "to")
        if not (from_id.isdigit() and to_id.isdigit()):
            continue
        for spec in item.get("types") or []:
            category, type_id, _ = check_spec(from_type, to_type, spec)
            store.remove_label(
                (from_type.type_id, int(from_id)), (to_type.type_id, int(to_id)), category, type_id
            )
    return Reply(204)


async def legacy_v3_put(context: RequestContext) -> Reply:
    from_type, to_type = object_type_of(context), object_type_of(context, "toObjectType")
    from_id = _existing(context, from_type, context.params["objectId"])
    to_id = _existing(context, to_type, context.params["toObjectId"])
    raw_type = context.params["associationType"]
    type_id = int(raw_type) if raw_type.isdigit() else _default_type(from_type, to_type)
    category, type_id, _ = check_spec(
        from_type, to_type, {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": type_id}
    )
    link(
        context.portal,
        from_type,
        from_id,
        to_type,
        to_id,
        category,
        type_id,
        context.now_ms,
        context.source(),
    )
    record = find_record(context.portal, from_type, str(from_id), None)
    assert record is not None
    body = record_json(from_type, record)
    body["associations"] = v3_associations(context.portal, from_type, from_id, [to_type.name])
    return Reply(200, body)


async def legacy_v3_delete(context: RequestContext) -> Reply:
    return await remove_pair(context)


def register(router: Router) -> None:
    router.add(
        "PUT",
        "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
        associate_default,
        scopes=WRITE_SCOPES,
    )
    router.add("GET", RECORD, list_associations, scopes=READ_SCOPES)
    router.add("PUT", RECORD + "/{toObjectId}", associate_labels, scopes=WRITE_SCOPES)
    router.add("DELETE", RECORD + "/{toObjectId}", remove_pair, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/associate/default", batch_associate_default, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/create", batch_create, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/read", batch_read, scopes=READ_SCOPES)
    router.add("POST", BATCH + "/archive", batch_archive, scopes=WRITE_SCOPES)
    router.add("POST", BATCH + "/labels/archive", batch_archive_labels, scopes=WRITE_SCOPES)
    legacy = (
        "/crm/v3/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}/{associationType}"
    )
    router.add("PUT", legacy, legacy_v3_put, scopes=WRITE_SCOPES)
    router.add("DELETE", legacy, legacy_v3_delete, scopes=WRITE_SCOPES)
