"""JSON scalars read the way HubSpot's Jackson-based API coerces them: a client may send "10" for 10,
"true" for true, 123 for "123". What no coercion fits is a 400 naming the field, never Python's own casts
(`bool("false")` is True, and `int("ten")` would surface as a 500)."""

from __future__ import annotations

import re
from typing import Any

from hubspot_pipeline.sandbox.errors import validation_error

_INTEGER = re.compile(r"^\s*-?\d+\s*$")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def json_bool(value: Any, field: str, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise validation_error(f"Invalid input JSON: {field} must be true or false, got {value!r}.")


def json_int(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    raise validation_error(f"Invalid input JSON: {field} must be an integer, got {value!r}.")


def json_text(value: Any, field: str) -> str:
    """A string field: numbers and booleans become their JSON text (5 -> "5", true -> "true")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise validation_error(f"Invalid input JSON: {field} must be a string, got {value!r}.")
