"""Limits on JSON a stranger sent, checked after `json.loads` and before the value is walked recursively or
stored as PostgreSQL jsonb: how deep it nests, and text jsonb cannot hold."""

from __future__ import annotations

from typing import Any

# The only way a NUL reaches a parsed string: JSON refuses control characters written raw.
_NUL_ESCAPE = b"\\u0000"


def json_problem(value: Any, raw: bytes, *, max_depth: int) -> str | None:
    """What is wrong with this parsed JSON, as the end of a sentence ("nests deeper than 16 levels"), or None.

    Iterative on purpose: a value json.loads accepted can nest deeper than Python's recursion limit lets a
    recursive walk go. Strings are looked at only when the raw body holds an escape that could make one
    unstorable; containers always (about 1 ms for 1,000 events)."""
    check_text = _NUL_ESCAPE in raw
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "holds a NUL character (\\u0000), which cannot be stored"
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
