"""POST /crm/v3/objects/contacts/gdpr-delete: the contact and its associated content are gone for good (not
even archived, so not restorable), and `contact.privacyDeletion` and `contact.deletion` fire. The body is
`{"objectId": "...", "idProperty": "email"?}` (objectId required). By email, an address no contact holds is
blocklisted and the answer is still 204 (as the spec says); the deleted contact's emails are blocklisted too.
By id, an unknown id is a 404 OBJECT_NOT_FOUND (*undocumented*: HubSpot documents only the 204).

Associated content: emails and notes associated with the contact and with no other contact are deleted,
and the contact's timeline events. Each call is recorded with its outcome (`GET /_sandbox/portals/{hub}/
gdpr-deletions`, `admin.gdpr_deletions()`), so a test can see the GDPR delete happened."""

from __future__ import annotations

from hubspot_pipeline.sandbox.crm import emit_event
from hubspot_pipeline.sandbox.errors import not_found, validation_error
from hubspot_pipeline.sandbox.lookup import check_id_property, find_record
from hubspot_pipeline.sandbox.object_types import BY_TYPE_ID, resolve_object_type
from hubspot_pipeline.sandbox.portal import Portal
from hubspot_pipeline.sandbox.records import CrmRecord
from hubspot_pipeline.sandbox.routes.common import WRITE_SCOPES, object_type_of
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router

CONTENT_TYPES = ("0-49", "0-46")  # emails, notes


async def gdpr_delete(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    if object_type.name != "contacts":
        raise validation_error("GDPR delete is only available for contacts")
    body = await context.json_object()
    object_id = body.get("objectId")
    if isinstance(object_id, int) and not isinstance(object_id, bool):
        object_id = str(object_id)
    if not isinstance(object_id, str) or not object_id.strip():
        raise validation_error(
            "Invalid input JSON on line 1: objectId is required (the contact's id, or its email with "
            '"idProperty": "email").'
        )
    id_property = body.get("idProperty")
    if id_property is not None and not isinstance(id_property, str):
        raise validation_error("Invalid input JSON on line 1: idProperty must be a string.")
    check_id_property(context.portal, object_type, id_property)
    portal = context.portal
    record = find_record(portal, object_type, object_id, id_property) or find_record(
        portal, object_type, object_id, id_property, archived=True
    )
    by_email = id_property not in (None, "", "hs_object_id")
    entry = {"objectId": object_id, "idProperty": id_property, "deletedId": None, "at": context.now_ms}
    portal.gdpr_deletions.append(entry)
    if record is None:
        if not by_email:
            raise not_found(object_id)
        portal.gdpr_blocklist.add(object_id.strip().lower())
        return Reply(204)
    entry["deletedId"] = str(record.id)
    _delete_content(context, portal, record)
    portal.associations.drop_record((object_type.type_id, record.id))
    portal.store(object_type).delete(record, context.visible_at())
    for name in ("email", "hs_additional_emails"):
        for email in str(record.properties.get(name) or "").split(";"):
            if email.strip():
                portal.gdpr_blocklist.add(email.strip().lower())
    for kind in ("privacyDeletion", "deletion"):
        emit_event(portal, object_type, kind, record.id, context.now_ms, context.source())
    return Reply(204)


def _delete_content(context: RequestContext, portal: Portal, contact: CrmRecord) -> None:
    """Emails and notes of this contact alone, and its timeline events: HubSpot's "all associated content"."""
    for (type_id, record_id), _ in portal.associations.all_of(("0-1", contact.id)):
        if type_id not in CONTENT_TYPES:
            continue
        others = [
            key
            for key, _ in portal.associations.all_of((type_id, record_id))
            if key[0] == "0-1" and key[1] != contact.id
        ]
        content_type = BY_TYPE_ID[type_id]
        record = portal.store(content_type).get(record_id) or portal.store(content_type).get(
            record_id, archived=True
        )
        if others or record is None:
            continue
        portal.associations.drop_record((type_id, record_id))
        portal.store(content_type).delete(record, context.visible_at())
    for key, event in list(portal.timeline_events.items()):
        if event.object_id == contact.id and resolve_object_type(event.object_type).name == "contacts":
            del portal.timeline_events[key]


def register(router: Router) -> None:
    router.add("POST", "/crm/v3/objects/{objectType}/gdpr-delete", gdpr_delete, scopes=WRITE_SCOPES)
