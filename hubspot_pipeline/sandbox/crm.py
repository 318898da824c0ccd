"""Writing CRM records the way HubSpot does: validate values, keep email and custom unique properties
unique, maintain createdate/lastmodifieddate and property history, feed the search index (with its lag)
and fire webhook events for every change, whoever made it."""

from __future__ import annotations

from typing import Any

import orjson

from hubspot_pipeline.sandbox.errors import ApiError, conflict
from hubspot_pipeline.sandbox.object_types import ObjectType
from hubspot_pipeline.sandbox.portal import Portal
from hubspot_pipeline.sandbox.records import CrmRecord, HistoryEntry, WriteSource
from hubspot_pipeline.sandbox.timeutil import iso_ms
from hubspot_pipeline.sandbox.values import (
    InvalidValue,
    normalise_value,
    read_only_property,
    unknown_property,
)


def check_properties(
    portal: Portal, object_type: ObjectType, raw: Any, current: dict[str, str] | None
) -> tuple[dict[str, str], list[InvalidValue]]:
    """Normalised values to write ("" clears), and every value HubSpot would reject."""
    if not isinstance(raw, dict):
        return {}, [InvalidValue("properties", "INVALID_INPUT", "properties must be an object")]
    definitions = portal.property_defs(object_type)
    changes: dict[str, str] = {}
    invalid: list[InvalidValue] = []
    for name, value in raw.items():
        definition = definitions.get(name)
        if definition is None or definition.archived:
            invalid.append(unknown_property(name))
        elif definition.read_only:
            invalid.append(read_only_property(name))
        else:
            result = normalise_value(definition, value, current.get(name) if current else None)
            if isinstance(result, InvalidValue):
                invalid.append(result)
            else:
                changes[name] = result
    return changes, invalid


def unique_owner(
    portal: Portal, object_type: ObjectType, changes: dict[str, str], record_id: int | None
) -> int | None:
    """The id of another record already holding one of these unique values, if any."""
    store = portal.store(object_type)
    for name in store.unique_properties().intersection(changes):
        value = changes[name]
        if not value:
            continue
        owner = store.unique_owner(name, value)
        if owner is not None and owner != record_id:
            return owner
    return None


def conflict_error(object_type: ObjectType, existing_id: int) -> ApiError:
    return conflict(f"{object_type.label.title()} already exists. Existing ID: {existing_id}")


def _derive(object_type: ObjectType, properties: dict[str, str]) -> None:
    """Read-only properties HubSpot computes from others."""
    if object_type.name == "contacts":
        email = properties.get("email")
        if email and "@" in email:
            properties["hs_email_domain"] = email.rsplit("@", 1)[1]
        else:
            properties.pop("hs_email_domain", None)
    elif object_type.name == "emails" and "hs_email_headers" in properties:
        try:
            headers = orjson.loads(properties["hs_email_headers"])
        except orjson.JSONDecodeError:
            return
        if not isinstance(headers, dict):
            return
        sender = headers.get("from") or {}
        recipients = headers.get("to") or []
        first = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
        for prefix, person in (("from", sender), ("to", first)):
            if isinstance(person, dict):
                for key, field in (("email", "email"), ("firstName", "firstname"), ("lastName", "lastname")):
                    if person.get(key):
                        properties[f"hs_email_{prefix}_{field}"] = str(person[key])


def _emit(
    portal: Portal,
    object_type: ObjectType,
    kind: str,
    record_id: int,
    now_ms: int,
    source: WriteSource,
    **extra: Any,
) -> None:
    if not portal.listening():
        return
    event: dict[str, Any] = {
        "kind": kind,
        "objectTypeId": object_type.type_id,
        "objectId": record_id,
        "occurredAt": now_ms,
        "changeSource": source.change_source,
    }
    if source.source_id:
        event["sourceId"] = source.source_id
    event.update(extra)
    portal.emit(event)


def create_record(
    portal: Portal,
    object_type: ObjectType,
    changes: dict[str, str],
    now_ms: int,
    visible_at: int | None,
    source: WriteSource,
) -> CrmRecord:
    record_id = portal.next_id()
    properties = {name: value for name, value in changes.items() if value != ""}
    _derive(object_type, properties)
    stamp = iso_ms(now_ms)
    properties["hs_object_id"] = str(record_id)
    properties[object_type.created_property] = stamp
    properties[object_type.last_modified_property] = stamp
    record = CrmRecord(record_id, properties, now_ms, now_ms, [HistoryEntry(now_ms, source, properties)])
    portal.store(object_type).insert(record, visible_at)
    _emit(portal, object_type, "creation", record_id, now_ms, source, changeFlag="CREATED")
    for name, value in changes.items():
        if value != "":
            _emit(
                portal,
                object_type,
                "propertyChange",
                record_id,
                now_ms,
                source,
                propertyName=name,
                propertyValue=value,
            )
    return record


def update_record(
    portal: Portal,
    object_type: ObjectType,
    record: CrmRecord,
    changes: dict[str, str],
    now_ms: int,
    visible_at: int | None,
    source: WriteSource,
    *,
    touch: bool = False,
) -> bool:
    """Applies the values that differ; False (and nothing fired) when none did, unless `touch`."""
    effective = {name: value for name, value in changes.items() if record.properties.get(name, "") != value}
    if not effective and not touch:
        return False
    properties = dict(record.properties)
    for name, value in effective.items():
        if value == "":
            properties.pop(name, None)
        else:
            properties[name] = value
    _derive(object_type, properties)
    properties[object_type.last_modified_property] = iso_ms(now_ms)
    portal.store(object_type).replace(record, properties, now_ms, visible_at)
    if effective:
        record.history.append(HistoryEntry(now_ms, source, effective))
    for name, value in effective.items():
        _emit(
            portal,
            object_type,
            "propertyChange",
            record.id,
            now_ms,
            source,
            propertyName=name,
            propertyValue=value,
        )
    return True


def archive_record(
    portal: Portal,
    object_type: ObjectType,
    record: CrmRecord,
    now_ms: int,
    visible_at: int | None,
    source: WriteSource,
) -> None:
    # Archiving does not bump the last-modified date (reference §2.6).
    portal.store(object_type).archive(record, now_ms, visible_at)
    _emit(portal, object_type, "deletion", record.id, now_ms, source)


def emit_event(
    portal: Portal,
    object_type: ObjectType,
    kind: str,
    record_id: int,
    now_ms: int,
    source: WriteSource,
    **extra: Any,
) -> None:
    _emit(portal, object_type, kind, record_id, now_ms, source, **extra)
