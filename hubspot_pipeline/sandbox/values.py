"""Checking and normalising property values written through the API, with HubSpot's error codes and its
odd 400 body (a message that embeds an escaped JSON array)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from hubspot_pipeline.sandbox.errors import ApiError, envelope
from hubspot_pipeline.sandbox.json_scalars import json_text
from hubspot_pipeline.sandbox.property_defs import PropertyDef
from hubspot_pipeline.sandbox.timeutil import DAY_MS, clock_of_day, iso_date, iso_ms, parse_epoch_ms

MAX_STRING_LENGTH = 65_536
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class InvalidValue:
    name: str
    code: str
    message: str


def _invalid(prop: str, code: str, message: str) -> InvalidValue:
    return InvalidValue(prop, code, message)


def normalise_value(definition: PropertyDef, raw: Any, current: str | None) -> str | InvalidValue:
    """The stored string for a written value, or why it is invalid. "" clears the property."""
    if raw is None:
        return ""
    value = json_text(raw, f"the value of property {definition.name}")
    if value == "":
        return ""
    kind = definition.type
    if kind != "string" and value != value.strip():
        # Since 2025-04 HubSpot rejects surrounding whitespace on non-string values.
        return _invalid(
            definition.name,
            "INVALID_WHITESPACE",
            f"{value!r} has leading or trailing whitespace, which {kind} properties do not allow",
        )
    if kind == "string":
        if len(value) > MAX_STRING_LENGTH:
            return _invalid(
                definition.name,
                "INVALID_LENGTH",
                f"Value for {definition.name} is longer than {MAX_STRING_LENGTH} characters",
            )
        if definition.name == "email":
            if not _EMAIL.match(value.strip()):
                return _invalid(definition.name, "INVALID_EMAIL", f"Email address {value} is invalid")
            return value.strip().lower()
        return value
    if kind == "number":
        if not _NUMBER.match(value):
            return _invalid(definition.name, "INVALID_INTEGER", f"{value} is not a valid number")
        return value
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            return _invalid(definition.name, "INVALID_BOOLEAN", f"{value} is not a valid boolean")
        return value.lower()
    if kind == "date":
        epoch = parse_epoch_ms(value)
        if epoch is None:
            return _invalid(definition.name, "INVALID_DATE", f"{value} is not a valid date")
        if epoch % DAY_MS != 0:
            return _invalid(
                definition.name, "INVALID_DATE", f"{value} is at {clock_of_day(epoch)} UTC, not midnight!"
            )
        return iso_date(epoch)
    if kind == "datetime":
        epoch = parse_epoch_ms(value)
        if epoch is None:
            return _invalid(definition.name, "INVALID_DATETIME", f"{value} is not a valid datetime")
        return iso_ms(epoch)
    if kind == "enumeration":
        return _normalise_enumeration(definition, value, current)
    return value


def _normalise_enumeration(definition: PropertyDef, value: str, current: str | None) -> str | InvalidValue:
    allowed = definition.option_values()
    appending = value.startswith(";") and definition.field_type == "checkbox"
    parts = [part for part in value.split(";") if part]
    if allowed and not definition.external_options:
        for part in parts:
            if part not in allowed:
                options = ", ".join(sorted(allowed))
                return _invalid(
                    definition.name,
                    "INVALID_OPTION",
                    f"{part} was not one of the allowed options: [{options}]",
                )
    if appending and current:
        existing = current.split(";")
        parts = existing + [part for part in parts if part not in existing]
    return ";".join(parts)


def invalid_property_error(invalid: list[InvalidValue], portal_id: int) -> dict[str, Any]:
    """HubSpot's 400 body for bad values: the message embeds the escaped JSON array of results."""
    embedded = [
        {
            "isValid": False,
            "message": item.message,
            "error": item.code,
            "name": item.name,
            "localizedErrorMessage": item.message,
            "portalId": portal_id,
        }
        for item in invalid
    ]
    return envelope(
        "Property values were not valid: " + orjson.dumps(embedded).decode(),
        "VALIDATION_ERROR",
        errors=[
            {"message": item.message, "code": item.code, "context": {"propertyName": [item.name]}}
            for item in invalid
        ],
    )


def raise_invalid(invalid: list[InvalidValue], portal_id: int) -> None:
    if invalid:
        raise ApiError(400, invalid_property_error(invalid, portal_id))


def unknown_property(name: str) -> InvalidValue:
    return _invalid(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')


def read_only_property(name: str) -> InvalidValue:
    return _invalid(
        name, "READ_ONLY_VALUE", f'Property "{name}" is a read only property; its value cannot be set.'
    )
