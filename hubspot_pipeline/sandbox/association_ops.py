"""Creating and removing associations with HubSpot's rules (directional type ids, a primary company also
gets the unlabeled association) and their webhook events."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.association_types import DEFAULT_TYPE, KINDS, legacy_name
from hubspot_pipeline.sandbox.errors import validation_error
from hubspot_pipeline.sandbox.json_scalars import json_int
from hubspot_pipeline.sandbox.object_types import BY_TYPE_ID, ObjectType
from hubspot_pipeline.sandbox.portal import Portal
from hubspot_pipeline.sandbox.records import WriteSource

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
CATEGORIES = {"HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK"}


def check_spec(from_type: ObjectType, to_type: ObjectType | None, spec: Any) -> tuple[str, int, ObjectType]:
    """(category, type id, target object type) of one `types[]` entry, or a 400 as HubSpot words it."""
    if not isinstance(spec, dict):
        raise validation_error("Invalid association type: expected associationCategory and associationTypeId")
    category = spec.get("associationCategory")
    raw_type_id = spec.get("associationTypeId")
    type_id = None if raw_type_id is None else json_int(raw_type_id, "associationTypeId", 0)
    if category not in CATEGORIES or type_id is None:
        raise validation_error(
            f"Invalid association type {spec!r}: associationCategory must be one of "
            f"{sorted(CATEGORIES)} and associationTypeId an integer"
        )
    kind = KINDS.get(type_id)
    if category == HUBSPOT_DEFINED:
        if kind is None:
            raise validation_error(f"{type_id} is not a valid HUBSPOT_DEFINED association type id")
        if kind.from_type != from_type.type_id:
            raise validation_error(
                f"invalid from object type {from_type.type_id} for associations to be created. "
                f"expected: {kind.from_type}"
            )
        target = BY_TYPE_ID[kind.to_type]
        if to_type is not None and to_type.type_id != kind.to_type:
            raise validation_error(
                f"invalid to object type {to_type.type_id} for associations to be created. "
                f"expected: {kind.to_type}"
            )
        return category, type_id, target
    if to_type is None:
        raise validation_error(f"association type {type_id} ({category}) needs the target object type")
    return category, type_id, to_type


def link(
    portal: Portal,
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    to_id: int,
    category: str,
    type_id: int,
    now_ms: int,
    source: WriteSource,
) -> None:
    added = portal.associations.add((from_type.type_id, from_id), (to_type.type_id, to_id), category, type_id)
    kind = KINDS.get(type_id)
    if kind is not None and kind.primary:
        unlabeled = DEFAULT_TYPE[(from_type.type_id, to_type.type_id)]
        portal.associations.add(
            (from_type.type_id, from_id), (to_type.type_id, to_id), HUBSPOT_DEFINED, unlabeled
        )
    if added:
        _emit_change(
            portal,
            from_type,
            from_id,
            to_type,
            to_id,
            removed=False,
            primary=bool(kind and kind.primary),
            now_ms=now_ms,
            source=source,
        )


def unlink_pair(
    portal: Portal,
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    to_id: int,
    now_ms: int,
    source: WriteSource,
) -> bool:
    removed = portal.associations.remove_pair((from_type.type_id, from_id), (to_type.type_id, to_id))
    if removed:
        _emit_change(
            portal,
            from_type,
            from_id,
            to_type,
            to_id,
            removed=True,
            primary=False,
            now_ms=now_ms,
            source=source,
        )
    return removed


def _emit_change(
    portal: Portal,
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    to_id: int,
    *,
    removed: bool,
    primary: bool,
    now_ms: int,
    source: WriteSource,
) -> None:
    if not portal.listening():
        return
    # HubSpot reports an association change from both sides.
    for a_type, a_id, b_type, b_id in (
        (from_type, from_id, to_type, to_id),
        (to_type, to_id, from_type, from_id),
    ):
        portal.emit(
            {
                "kind": "associationChange",
                "objectTypeId": a_type.type_id,
                "objectId": a_id,
                "occurredAt": now_ms,
                "changeSource": source.change_source,
                "associationType": f"{a_type.singular.upper()}_TO_{b_type.singular.upper()}",
                "fromObjectId": a_id,
                "toObjectId": b_id,
                "associationRemoved": removed,
                "isPrimaryAssociation": primary,
            }
        )


def v3_associations(
    portal: Portal, from_type: ObjectType, record_id: int, to_names: list[str]
) -> dict[str, Any]:
    """The `associations` block of a v3 read: {companies: {results: [{id, type}]}}."""
    from hubspot_pipeline.sandbox.object_types import resolve_object_type

    block: dict[str, Any] = {}
    for name in to_names:
        to_type = resolve_object_type(name)
        results = []
        for to_id, labels in sorted(
            portal.associations.targets((from_type.type_id, record_id), to_type.type_id).items()
        ):
            for _, type_id in sorted(labels, key=lambda label: label[1]):
                kind = KINDS.get(type_id)
                type_name = legacy_name(kind, from_type.singular, to_type.singular) if kind else str(type_id)
                results.append({"id": str(to_id), "type": type_name})
        if results:
            block[to_type.name] = {"results": results}
    return block
