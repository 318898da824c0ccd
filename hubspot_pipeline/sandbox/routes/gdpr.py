"""POST /crm/v3/objects/contacts/gdpr-delete: the contact is gone for good (not even archived) and fires
both `contact.privacyDeletion` and `contact.deletion`. An unknown email is only blocklisted: still 204."""

from __future__ import annotations

from hubspot_pipeline.sandbox.crm import emit_event
from hubspot_pipeline.sandbox.errors import validation_error
from hubspot_pipeline.sandbox.lookup import check_id_property, find_record
from hubspot_pipeline.sandbox.routes.common import WRITE_SCOPES, object_type_of
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router


async def gdpr_delete(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    if object_type.name != "contacts":
        raise validation_error("GDPR delete is only available for contacts")
    body = await context.json_object()
    id_property = body.get("idProperty")
    check_id_property(context.portal, object_type, id_property)
    portal = context.portal
    record = find_record(portal, object_type, str(body.get("objectId", "")), id_property)
    if record is None:
        record = find_record(portal, object_type, str(body.get("objectId", "")), id_property, archived=True)
    if record is not None:
        portal.associations.drop_record((object_type.type_id, record.id))
        portal.store(object_type).delete(record, context.visible_at())
        for kind in ("privacyDeletion", "deletion"):
            emit_event(portal, object_type, kind, record.id, context.now_ms, context.source())
    return Reply(204)


def register(router: Router) -> None:
    router.add("POST", "/crm/v3/objects/{objectType}/gdpr-delete", gdpr_delete, scopes=WRITE_SCOPES)
