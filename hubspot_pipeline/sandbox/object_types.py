"""The CRM object types the sandbox serves, and the names paths may use for them (plural, singular, id)."""

from __future__ import annotations

from dataclasses import dataclass

from hubspot_pipeline.sandbox.errors import ApiError, envelope


@dataclass(frozen=True)
class ObjectType:
    name: str  # plural, as in /crm/v3/objects/contacts
    singular: str
    type_id: str  # "0-1"
    label: str  # as HubSpot names it in messages: CONTACT
    last_modified_property: str
    created_property: str
    default_properties: tuple[str, ...]
    search_text_properties: tuple[str, ...]
    required_on_create: tuple[str, ...] = ()
    webhook_prefix: str | None = None  # contact.creation ...; None: only object.* subscriptions


CONTACTS = ObjectType(
    name="contacts",
    singular="contact",
    type_id="0-1",
    label="CONTACT",
    last_modified_property="lastmodifieddate",
    created_property="createdate",
    default_properties=("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    search_text_properties=(
        "firstname",
        "lastname",
        "email",
        "phone",
        "hs_additional_emails",
        "fax",
        "mobilephone",
        "company",
        "hs_marketable_until_renewal",
    ),
    webhook_prefix="contact",
)
COMPANIES = ObjectType(
    name="companies",
    singular="company",
    type_id="0-2",
    label="COMPANY",
    last_modified_property="hs_lastmodifieddate",
    created_property="createdate",
    default_properties=("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    search_text_properties=("website", "phone", "name", "domain"),
    webhook_prefix="company",
)
EMAILS = ObjectType(
    name="emails",
    singular="email",
    type_id="0-49",
    label="EMAIL",
    last_modified_property="hs_lastmodifieddate",
    created_property="hs_createdate",
    default_properties=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    search_text_properties=("hs_email_subject",),
    required_on_create=("hs_timestamp",),
)
NOTES = ObjectType(
    name="notes",
    singular="note",
    type_id="0-46",
    label="NOTE",
    last_modified_property="hs_lastmodifieddate",
    created_property="hs_createdate",
    default_properties=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    search_text_properties=("hs_note_body",),
    required_on_create=("hs_timestamp",),
)

OBJECT_TYPES: tuple[ObjectType, ...] = (CONTACTS, COMPANIES, EMAILS, NOTES)
_BY_NAME: dict[str, ObjectType] = {}
for _type in OBJECT_TYPES:
    for _alias in (_type.name, _type.singular, _type.type_id, _type.label.lower()):
        _BY_NAME[_alias] = _type
BY_TYPE_ID = {t.type_id: t for t in OBJECT_TYPES}


def resolve_object_type(name: str) -> ObjectType:
    found = _BY_NAME.get(name.lower())
    if found is None:
        raise ApiError(
            400,
            envelope(
                f"Unable to infer object type from: {name}",
                "VALIDATION_ERROR",
                context={"objectType": [name]},
            ),
        )
    return found
