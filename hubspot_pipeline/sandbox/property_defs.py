"""Property definitions: HubSpot's default properties per object type, and the portal's custom ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# type -> the fieldTypes HubSpot accepts with it (reference §4).
VALID_FIELD_TYPES: dict[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox", "calculation_equation"}),
    "enumeration": frozenset({"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset({"text", "textarea", "file", "html", "phonenumber", "calculation_equation"}),
    "number": frozenset({"number", "calculation_equation"}),
    "phone_number": frozenset({"phonenumber", "text"}),
}
MAX_UNIQUE_PROPERTIES = 10


@dataclass
class PropertyDef:
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    has_unique_value: bool = False
    read_only: bool = False
    hubspot_defined: bool = True
    external_options: bool = False
    display_order: int = -1
    hidden: bool = False
    form_field: bool = False
    calculated: bool = False
    created_ms: int = 0
    updated_ms: int = 0
    archived: bool = False
    archived_ms: int | None = None

    def option_values(self) -> set[str]:
        return {option["value"] for option in self.options}


def _opts(*values: str) -> list[dict[str, Any]]:
    return [
        {"label": value.replace("_", " ").title(), "value": value, "hidden": False, "displayOrder": index}
        for index, value in enumerate(values)
    ]


def _text(name: str, label: str, group: str) -> PropertyDef:
    return PropertyDef(name, label, "string", "text", group)


def _read_only(name: str, label: str, type_: str, group: str) -> PropertyDef:
    field_type = {"datetime": "date", "number": "number"}.get(type_, "text")
    return PropertyDef(name, label, type_, field_type, group, read_only=True, calculated=False)


LIFECYCLE_STAGES = _opts(
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)


def _contact_properties() -> list[PropertyDef]:
    group = "contactinformation"
    return [
        PropertyDef("email", "Email", "string", "text", group, has_unique_value=False),
        *(
            _text(name, label, group)
            for name, label in [
                ("firstname", "First Name"),
                ("lastname", "Last Name"),
                ("company", "Company Name"),
                ("website", "Website URL"),
                ("jobtitle", "Job Title"),
                ("city", "City"),
                ("state", "State/Region"),
                ("country", "Country/Region"),
                ("zip", "Postal Code"),
                ("address", "Street Address"),
                ("hs_additional_emails", "Additional email addresses"),
                ("hs_marketable_until_renewal", "Marketing contact until next update"),
            ]
        ),
        PropertyDef("phone", "Phone Number", "string", "phonenumber", group),
        PropertyDef("mobilephone", "Mobile Phone Number", "string", "phonenumber", group),
        PropertyDef("fax", "Fax Number", "string", "phonenumber", group),
        PropertyDef(
            "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group, options=LIFECYCLE_STAGES
        ),
        PropertyDef(
            "hs_lead_status",
            "Lead Status",
            "enumeration",
            "radio",
            group,
            options=_opts(
                "NEW",
                "OPEN",
                "IN_PROGRESS",
                "OPEN_DEAL",
                "UNQUALIFIED",
                "ATTEMPTED_TO_CONTACT",
                "CONNECTED",
                "BAD_TIMING",
            ),
        ),
        PropertyDef(
            "hubspot_owner_id", "Contact owner", "enumeration", "select", group, external_options=True
        ),
        PropertyDef(
            "hs_email_optout",
            "Unsubscribed from all email",
            "bool",
            "booleancheckbox",
            group,
            options=_opts("true", "false"),
        ),
        _read_only("hs_object_id", "Record ID", "number", group),
        _read_only("createdate", "Create Date", "datetime", group),
        _read_only("lastmodifieddate", "Last Modified Date", "datetime", group),
        _read_only("hs_merged_object_ids", "Merged Contact IDs", "enumeration", group),
        _read_only("hs_email_domain", "Email Domain", "string", group),
    ]


def _company_properties() -> list[PropertyDef]:
    group = "companyinformation"
    return [
        *(
            _text(name, label, group)
            for name, label in [
                ("name", "Company name"),
                ("domain", "Company Domain Name"),
                ("website", "Website URL"),
                ("city", "City"),
                ("state", "State/Region"),
                ("country", "Country/Region"),
                ("description", "Description"),
                ("industry", "Industry"),
            ]
        ),
        PropertyDef("phone", "Phone Number", "string", "phonenumber", group),
        PropertyDef("numberofemployees", "Number of Employees", "number", "number", group),
        PropertyDef("annualrevenue", "Annual Revenue", "number", "number", group),
        PropertyDef(
            "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group, options=LIFECYCLE_STAGES
        ),
        PropertyDef(
            "hubspot_owner_id", "Company owner", "enumeration", "select", group, external_options=True
        ),
        _read_only("hs_object_id", "Record ID", "number", group),
        _read_only("createdate", "Create Date", "datetime", group),
        _read_only("hs_lastmodifieddate", "Last Modified Date", "datetime", group),
        _read_only("hs_merged_object_ids", "Merged Company IDs", "enumeration", group),
    ]


def _engagement_properties(group: str) -> list[PropertyDef]:
    return [
        PropertyDef("hs_timestamp", "Activity date", "datetime", "date", group),
        PropertyDef(
            "hubspot_owner_id", "Activity assigned to", "enumeration", "select", group, external_options=True
        ),
        _text("hs_attachment_ids", "Attached file IDs", group),
        _read_only("hs_object_id", "Record ID", "number", group),
        _read_only("hs_createdate", "Create date", "datetime", group),
        _read_only("hs_lastmodifieddate", "Last modified date", "datetime", group),
    ]


def _email_properties() -> list[PropertyDef]:
    group = "emailinformation"
    return [
        *_engagement_properties(group),
        PropertyDef(
            "hs_email_direction",
            "Email direction",
            "enumeration",
            "select",
            group,
            options=_opts("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
        ),
        PropertyDef(
            "hs_email_status",
            "Email send status",
            "enumeration",
            "select",
            group,
            options=_opts("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
        ),
        _text("hs_email_subject", "Email subject", group),
        PropertyDef("hs_email_text", "Email body", "string", "textarea", group),
        PropertyDef("hs_email_html", "Email HTML body", "string", "html", group),
        _text("hs_email_headers", "Email headers", group),
        *(
            _read_only(name, name, "string", group)
            for name in (
                "hs_email_from_email",
                "hs_email_from_firstname",
                "hs_email_from_lastname",
                "hs_email_to_email",
                "hs_email_to_firstname",
                "hs_email_to_lastname",
            )
        ),
    ]


def _note_properties() -> list[PropertyDef]:
    group = "noteinformation"
    return [*_engagement_properties(group), PropertyDef("hs_note_body", "Note body", "string", "html", group)]


DEFAULT_GROUPS: dict[str, list[tuple[str, str]]] = {
    "contacts": [("contactinformation", "Contact information")],
    "companies": [("companyinformation", "Company information")],
    "emails": [("emailinformation", "Email information")],
    "notes": [("noteinformation", "Note information")],
}


def default_properties(object_type_name: str) -> list[PropertyDef]:
    return {
        "contacts": _contact_properties,
        "companies": _company_properties,
        "emails": _email_properties,
        "notes": _note_properties,
    }[object_type_name]()
