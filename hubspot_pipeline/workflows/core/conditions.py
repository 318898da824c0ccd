"""Conditions compared against an evaluation context: data in, booleans out, nothing evaluated as code.

- `eq` / `neq`: equal as numbers when both sides are numbers (or numeric text), otherwise as text, ignoring
  case (emails, statuses and intents are compared as people write them).
- `gt` `gte` `lt` `lte`: numbers; or ISO dates/times compared as text when both sides are text. A missing
  or non-numeric value is not greater or smaller than anything: the condition fails.
- `in`: the value equals (as `eq`) one of the list's.
- `contains`: text contains the value ignoring case; a list (custom field) holds it.
- `exists`: the field has a value (not missing, not null, not ""); `value: false` asks for the opposite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline.workflows.core.fields import MISSING, resolve
from hubspot_pipeline.workflows.core.model import Condition


@dataclass(frozen=True)
class ConditionResult:
    field: str
    op: str
    value: Any
    actual: Any  # None when the field has no value
    passed: bool


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _equal(actual: Any, expected: Any) -> bool:
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return a == b
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return str(actual).strip().lower() == str(expected).strip().lower()


def _order(actual: Any, expected: Any) -> int | None:
    """-1, 0 or 1 comparing actual to expected, or None when they cannot be ordered."""
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    if isinstance(actual, str) and isinstance(expected, str) and _number(expected) is None:
        return (actual > expected) - (actual < expected)
    return None


def passes(op: str, actual: Any, expected: Any) -> bool:
    if op == "exists":
        present = actual is not MISSING and actual != ""
        return present if expected is None or expected is True else not present
    if actual is MISSING:
        return op == "neq"  # a missing value differs from every value, and matches nothing else
    if op == "eq":
        return _equal(actual, expected)
    if op == "neq":
        return not _equal(actual, expected)
    if op == "in":
        return any(_equal(actual, item) for item in expected)
    if op == "contains":
        if isinstance(actual, list):
            return any(_equal(item, expected) for item in actual)
        return str(expected).lower() in str(actual).lower()
    order = _order(actual, expected)
    if order is None:
        return False
    return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[op]


def evaluate(
    conditions: list[Condition], context: Mapping[str, Mapping[str, Any]]
) -> tuple[bool, list[ConditionResult]]:
    """Every condition's result (all of them, for POST /workflows/test), and whether they all pass."""
    results = []
    for condition in conditions:
        actual = resolve(context, condition.field)
        results.append(
            ConditionResult(
                condition.field,
                condition.op,
                condition.value,
                None if actual is MISSING else actual,
                passes(condition.op, actual, condition.value),
            )
        )
    return all(r.passed for r in results), results
