"""The one way JSON reaches PostgreSQL: SQLAlchemy's JSONB type binds the Python value, and the driver encodes
it once with `dumps` below (the engine's json_serializer; COPY rows pass `psycopg.types.json.Jsonb`, which
uses the same). Never `json.dumps` a value into text SQL with a `::jsonb` cast: SQLAlchemy then encodes the
string a second time, and jsonb holds a JSON string instead of the object (issue #9: custom fields that
became arrays, tombstones a run could not read).

JSON has no NaN or infinity, and jsonb refuses them. A float NaN in our values is pandas' "missing", so it is
stored as null, like infinities (the API refuses 1e999 before it gets here: api/json_input.py).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

# Keys that are not strings (ints from pandas) become strings, as json.dumps makes them; numpy scalars and
# arrays are plain numbers and lists. orjson writes NaN and infinities as null.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> bytes:
    """`value` as JSON text for jsonb (UTF-8), NaN and infinities as null."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which JSON and jsonb (numeric) hold.
        return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
