"""POST /crm/v3/objects/{contacts|companies}/merge. The survivor may get a new id (HubSpot's default;
the "Primary ID Preservation" beta keeps the primary's), lists the merged ids in hs_merged_object_ids,
keeps the primary's values and fills blanks from the other, takes over its associations; the merged-away
ids vanish (404). Fires `*.merge` plus `*.deletion` for every id that no longer exists."""

from __future__ import annotations

from hubspot_pipeline.sandbox.crm import emit_event
from hubspot_pipeline.sandbox.errors import not_found, validation_error
from hubspot_pipeline.sandbox.lookup import find_record
from hubspot_pipeline.sandbox.records import CrmRecord, HistoryEntry, WriteSource
from hubspot_pipeline.sandbox.routes.common import WRITE_SCOPES, object_type_of
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.serialize import record_json
from hubspot_pipeline.sandbox.timeutil import iso_ms

COMPUTED = {
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
    "hs_lastmodifieddate",
    "hs_merged_object_ids",
    "hs_createdate",
}


async def merge(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    if object_type.name not in ("contacts", "companies"):
        raise validation_error(f"Merging is not supported for {object_type.name}")
    body = await context.json_object()
    primary_id, other_id = str(body.get("primaryObjectId", "")), str(body.get("objectIdToMerge", ""))
    if primary_id == other_id:
        raise validation_error("Cannot merge an object with itself.")
    portal = context.portal
    primary = find_record(portal, object_type, primary_id, None)
    other = find_record(portal, object_type, other_id, None)
    if primary is None or other is None:
        raise not_found(primary_id if primary is None else other_id)
    store = portal.store(object_type)
    now, source = context.now_ms, WriteSource("MERGE", f"appId:{context.sandbox.app.app_id}")
    keep_id = bool(context.sandbox.options.merge_keeps_primary_id)
    survivor_id = primary.id if keep_id else portal.next_id()

    properties = dict(other.properties)
    properties.update(primary.properties)  # the primary's values win; blanks come from the other record
    moved = sum(1 for name in other.properties if name not in primary.properties and name not in COMPUTED)
    merged_ids = [
        *filter(None, primary.properties.get("hs_merged_object_ids", "").split(";")),
        *filter(None, other.properties.get("hs_merged_object_ids", "").split(";")),
        str(other.id),
    ]
    if not keep_id:
        merged_ids.append(str(primary.id))
    properties["hs_merged_object_ids"] = ";".join(dict.fromkeys(merged_ids))
    if object_type.name == "contacts" and other.properties.get("email"):
        extra = [e for e in primary.properties.get("hs_additional_emails", "").split(";") if e]
        properties["hs_additional_emails"] = ";".join(dict.fromkeys([*extra, other.properties["email"]]))
    properties["hs_object_id"] = str(survivor_id)
    properties[object_type.created_property] = iso_ms(min(primary.created_ms, other.created_ms))
    properties[object_type.last_modified_property] = iso_ms(now)

    links = portal.associations.drop_record((object_type.type_id, primary.id))
    links += portal.associations.drop_record((object_type.type_id, other.id))
    visible_at = context.visible_at()
    store.delete(primary, visible_at)
    store.delete(other, visible_at)
    history = sorted(primary.history + other.history, key=lambda entry: entry.timestamp_ms)
    history.append(HistoryEntry(now, source, {"hs_merged_object_ids": properties["hs_merged_object_ids"]}))
    survivor = CrmRecord(survivor_id, properties, min(primary.created_ms, other.created_ms), now, history)
    store.insert(survivor, visible_at)
    for (target_type, target_id), labels in links:
        if (target_type, target_id) in ((object_type.type_id, primary.id), (object_type.type_id, other.id)):
            continue
        for category, type_id in labels:
            portal.associations.add(
                (object_type.type_id, survivor.id), (target_type, target_id), category, type_id
            )

    emit_event(
        portal,
        object_type,
        "merge",
        survivor.id,
        now,
        source,
        primaryObjectId=primary.id,
        mergedObjectIds=[other.id],
        newObjectId=survivor.id,
        numberOfPropertiesMoved=moved,
    )
    for gone in {other.id, primary.id} - {survivor.id}:
        emit_event(portal, object_type, "deletion", gone, now, source)
    return Reply(200, record_json(object_type, survivor, all_properties=True))


def register(router: Router) -> None:
    router.add("POST", "/crm/v3/objects/{objectType}/merge", merge, scopes=WRITE_SCOPES)
