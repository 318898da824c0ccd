"""Records as HubSpot returns them: string id, string property values, ISO timestamps, `archived`,
optional property history and v3 associations."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.object_types import ObjectType
from hubspot_pipeline.sandbox.records import CrmRecord
from hubspot_pipeline.sandbox.timeutil import iso_ms

# Always present, whatever `properties` asked for.
ALWAYS = ("hs_object_id",)


def select_properties(
    object_type: ObjectType,
    record_properties: dict[str, str],
    requested: list[str] | None,
    empty_as_null: bool,
) -> dict[str, Any]:
    if requested is None:
        names: list[str] = list(object_type.default_properties)
    else:
        names = [*requested, *ALWAYS, object_type.created_property, object_type.last_modified_property]
    selected: dict[str, Any] = {}
    for name in names:
        value = record_properties.get(name)
        if value is not None:
            selected[name] = value
        elif empty_as_null and requested is not None:
            selected[name] = None
    return selected


def history_of(record: CrmRecord, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    wanted = set(names)
    history: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for entry in reversed(record.history):  # newest first, as HubSpot lists them
        for name, value in entry.values.items():
            if name in wanted:
                item: dict[str, Any] = {
                    "value": value,
                    "timestamp": iso_ms(entry.timestamp_ms),
                    "sourceType": entry.source.change_source,
                }
                if entry.source.source_id:
                    item["sourceId"] = entry.source.source_id
                if entry.source.user_id is not None:
                    item["updatedByUserId"] = entry.source.user_id
                history[name].append(item)
    return {name: items for name, items in history.items() if items}


def record_json(
    object_type: ObjectType,
    record: CrmRecord,
    requested: list[str] | None = None,
    *,
    with_history: list[str] | None = None,
    empty_as_null: bool = False,
    all_properties: bool = False,
) -> dict[str, Any]:
    properties = (
        dict(record.properties)
        if all_properties
        else select_properties(object_type, record.properties, requested, empty_as_null)
    )
    body: dict[str, Any] = {
        "id": str(record.id),
        "properties": properties,
        "createdAt": iso_ms(record.created_ms),
        "updatedAt": iso_ms(record.updated_ms),
        "archived": record.archived,
    }
    if record.archived_ms is not None:
        body["archivedAt"] = iso_ms(record.archived_ms)
    if with_history:
        body["propertiesWithHistory"] = history_of(record, with_history)
    return body
