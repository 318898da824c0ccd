"""Finding records by id or by a unique property (`idProperty`), and the batch size limits."""

from __future__ import annotations

from hubspot_pipeline.sandbox.errors import ApiError, validation_error
from hubspot_pipeline.sandbox.object_types import ObjectType
from hubspot_pipeline.sandbox.portal import Portal
from hubspot_pipeline.sandbox.records import CrmRecord

MAX_BATCH_INPUTS = 100
MAX_HISTORY_INPUTS = 50


def non_unique_error(object_type: ObjectType, id_property: str) -> ApiError:
    return validation_error(
        f"Unable to perform update/upsert by non-unique {object_type.type_id} property {id_property}"
    )


def check_id_property(portal: Portal, object_type: ObjectType, id_property: str | None) -> None:
    if id_property in (None, "", "hs_object_id"):
        return
    assert id_property is not None
    if id_property not in portal.store(object_type).unique_properties():
        raise non_unique_error(object_type, id_property)


def find_record(
    portal: Portal, object_type: ObjectType, value: str, id_property: str | None, archived: bool = False
) -> CrmRecord | None:
    store = portal.store(object_type)
    if id_property in (None, "", "hs_object_id"):
        if not value.isdigit():
            return None
        return store.get(int(value), archived=archived)
    assert id_property is not None
    record = store.find_unique(id_property, value)
    if record is None or record.archived != archived:
        return None
    return record


def check_batch_size(inputs: object, with_history: bool = False) -> list[dict]:
    if not isinstance(inputs, list):
        raise validation_error("Invalid input JSON: `inputs` must be an array.")
    if with_history and len(inputs) > MAX_HISTORY_INPUTS:
        raise validation_error(
            "The maximum number of inputs supported in a batch request for property histories is 50. "
            "Please reduce the number of items and try again"
        )
    if len(inputs) > MAX_BATCH_INPUTS:
        raise validation_error(
            f"Batch input limit exceeded: {len(inputs)} inputs were sent, the maximum is {MAX_BATCH_INPUTS}."
        )
    for item in inputs:
        if not isinstance(item, dict):
            raise validation_error("Invalid input JSON: every input must be an object.")
    return inputs
