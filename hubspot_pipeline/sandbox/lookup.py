"""Finding records by id or by a unique property (`idProperty`), and parsing the query parameters CRM
reads share."""

from __future__ import annotations

from dataclasses import dataclass

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


def parse_bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def parse_limit(value: str | None, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    try:
        limit = int(value)
    except ValueError:
        raise validation_error(f"limit must be an integer, got {value!r}") from None
    if limit < 1:
        raise validation_error("limit must be at least 1")
    return min(limit, maximum)


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


@dataclass
class ReadOptions:
    properties: list[str] | None
    with_history: list[str] | None
    associations: list[str] | None
    archived: bool
