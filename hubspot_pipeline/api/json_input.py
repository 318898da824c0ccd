"""Limits on JSON a stranger sent, checked after `json.loads` and before the value is walked recursively or
stored as PostgreSQL jsonb: how deep it nests, and text jsonb cannot hold."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

# The only ways a NUL or an unpaired surrogate reaches a parsed string: JSON refuses control characters
# written raw, and raw surrogates are not UTF-8.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class UnstorableNumber(ValueError):
    """A JSON number json.loads reads as infinity (1e999), which jsonb cannot hold."""


def finite_float(text: str) -> float:
    """`parse_float` for json.loads: refuses numbers beyond a float's range instead of making them infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise UnstorableNumber("holds a number too large for a 64-bit float")
    return value


def _unstorable_text(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (\\u0000), which cannot be stored"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "holds an unpaired surrogate (an escape from \\ud800 to \\udfff alone), which is not text"
    return None


def json_problem(value: Any, raw: bytes, *, max_depth: int) -> str | None:
    """What is wrong with this parsed JSON, as the end of a sentence ("nests deeper than 16 levels"), or None.

    Iterative on purpose: a value json.loads accepted can nest deeper than Python's recursion limit lets a
    recursive walk go. Strings are looked at only when the raw body holds an escape that could make one
    unstorable; containers always (about 1 ms for 1,000 events)."""
    check_text = _UNSTORABLE_ESCAPE.search(raw) is not None
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = _unstorable_text(item)
            if problem is not None:
                return problem
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            return f"nests deeper than {max_depth} levels"
        children = item.values() if isinstance(item, dict) else item
        if check_text and isinstance(item, dict):
            pending.extend((key, depth) for key in item)
        pending.extend(
            (child, depth + 1) for child in children if check_text or isinstance(child, dict | list)
        )
    return None


def unstorable_text_in(raw: bytes) -> str | None:
    """What in a JSON request body PostgreSQL could not store as text (a NUL, an unpaired surrogate), as the
    end of a sentence, or None. A body that is not JSON is left to FastAPI, which answers it itself."""
    if _UNSTORABLE_ESCAPE.search(raw) is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return json_problem(value, raw, max_depth=sys.maxsize)
