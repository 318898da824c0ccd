"""CRM search over the search index (never archived records, and only what the index lag lets through):
filter groups (AND within, OR across), HubSpot's operators and case rules, one sort, offset paging."""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hubspot_pipeline.sandbox.errors import validation_error
from hubspot_pipeline.sandbox.json_scalars import json_text
from hubspot_pipeline.sandbox.property_defs import PropertyDef
from hubspot_pipeline.sandbox.timeutil import parse_epoch_ms

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
NUMERIC_TYPES = {"number", "datetime", "date"}
Doc = dict[str, str]
Predicate = Callable[[int, Doc], bool]
_TOKEN_SPLIT = re.compile(r"[\s;,]+")


@functools.lru_cache(maxsize=65_536)
def _epoch(text: str) -> float | None:
    # Cached: bulk updates stamp thousands of records with one identical timestamp string.
    epoch = parse_epoch_ms(text)
    return None if epoch is None else float(epoch)


def _number(definition: PropertyDef | None, text: str | None) -> float | None:
    if text is None or text == "":
        return None
    if definition is not None and definition.type in ("datetime", "date"):
        return _epoch(text)
    try:
        return float(text)
    except ValueError:
        return None


def compile_filter(
    raw: Any,
    definitions: dict[str, PropertyDef],
    association_check: Callable[[str, str], Callable[[int], bool]],
) -> Predicate:
    if not isinstance(raw, dict) or "propertyName" not in raw or "operator" not in raw:
        raise validation_error("Every filter needs propertyName and operator.")
    name, operator = str(raw["propertyName"]), str(raw["operator"]).upper()
    value = raw.get("value")
    value = None if value is None else json_text(value, f"the value of the filter on {name}")
    if name.startswith("associations."):
        if operator != "EQ" or value is None:
            raise validation_error(f"{name} supports only EQ with a record id")
        linked = association_check(name.split(".", 1)[1], value)
        return lambda record_id, doc: linked(record_id)
    definition = definitions.get(name)
    numeric = definition is not None and definition.type in NUMERIC_TYPES
    # Enumerations compare case-sensitively; other strings do not (reference §3.1).
    case_sensitive = definition is not None and definition.type == "enumeration"

    def fold(text: str) -> str:
        return text if case_sensitive else text.lower()

    if operator == "HAS_PROPERTY":
        return lambda record_id, doc: bool(doc.get(name))
    if operator == "NOT_HAS_PROPERTY":
        return lambda record_id, doc: not doc.get(name)
    if operator in ("IN", "NOT_IN"):
        values = raw.get("values")
        if not isinstance(values, list):
            raise validation_error(f"{operator} needs `values`, a list")
        # String values must be sent lowercase: HubSpot compares them against lowercased data.
        wanted = {json_text(item, f"the values of the filter on {name}") for item in values}
        if numeric:
            numbers = {_number(definition, item) for item in wanted}
            inside: Predicate = lambda record_id, doc: _number(definition, doc.get(name)) in numbers  # noqa: E731
        else:
            inside = lambda record_id, doc: fold(doc.get(name, "")) in wanted  # noqa: E731
        if operator == "IN":
            return lambda record_id, doc: bool(doc.get(name)) and inside(record_id, doc)
        return lambda record_id, doc: not (bool(doc.get(name)) and inside(record_id, doc))
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        if value is None:
            raise validation_error(f"{operator} needs a value")
        pattern = value.lower()

        def contains(record_id: int, doc: Doc) -> bool:
            text = doc.get(name, "").lower()
            if "*" in pattern:
                return fnmatch.fnmatchcase(text, pattern)
            return text == pattern or pattern in _TOKEN_SPLIT.split(text)

        if operator == "CONTAINS_TOKEN":
            return contains
        return lambda record_id, doc: not contains(record_id, doc)
    if value is None:
        raise validation_error(f"Operator {operator} needs a value for {name}")
    if operator == "BETWEEN":
        high = raw.get("highValue")
        if high is None:
            raise validation_error("BETWEEN needs value and highValue")
        high = json_text(high, f"the highValue of the filter on {name}")
        if numeric:
            low_n, high_n = _number(definition, value), _number(definition, high)
            if low_n is None or high_n is None:
                raise validation_error("There was a problem with the request.")
            return lambda record_id, doc: (lambda n: n is not None and low_n <= n <= high_n)(
                _number(definition, doc.get(name))
            )
        low_s, high_s = fold(value), fold(high)
        return lambda record_id, doc: name in doc and low_s <= fold(doc[name]) <= high_s
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "EQ": lambda a, b: a == b,
        "NEQ": lambda a, b: a != b,
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
    }
    compare = comparisons.get(operator)
    if compare is None:
        raise validation_error(f"Unknown filter operator {operator}")
    if numeric:
        target = _number(definition, value)
        if target is None:
            # An ISO date without dateTimeFormat, for example (reference §3.1).
            raise validation_error("There was a problem with the request.")
        if operator == "NEQ":
            return lambda record_id, doc: _number(definition, doc.get(name)) != target
        return lambda record_id, doc: (lambda n: n is not None and compare(n, target))(
            _number(definition, doc.get(name))
        )
    folded = fold(value)
    if operator == "NEQ":
        return lambda record_id, doc: fold(doc.get(name, "")) != folded
    return lambda record_id, doc: name in doc and compare(fold(doc[name]), folded)


@dataclass(frozen=True)
class CompiledFilter:
    """A filter as a per-record predicate, and, for numeric properties, as a vectorised mask too."""

    predicate: Predicate
    column: str | None = None
    parse: Callable[[str], float | None] | None = None
    mask: Callable[[np.ndarray], np.ndarray] | None = None


_VECTOR_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "EQ": lambda v, t: v == t,
    "NEQ": lambda v, t: ~(v == t),
    "LT": lambda v, t: v < t,
    "LTE": lambda v, t: v <= t,
    "GT": lambda v, t: v > t,
    "GTE": lambda v, t: v >= t,
}


def _vectorised(raw: dict[str, Any], definition: PropertyDef | None, name: str) -> CompiledFilter | None:
    numeric = name == "hs_object_id" or (definition is not None and definition.type in NUMERIC_TYPES)
    if not numeric:
        return None
    operator = str(raw["operator"]).upper()

    def parse(text: str) -> float | None:
        return _number(definition if name != "hs_object_id" else None, text)

    mask: Callable[[np.ndarray], np.ndarray] | None = None
    if operator in _VECTOR_OPS and raw.get("value") is not None:
        target = parse(str(raw["value"]))
        if target is None:
            return None
        compare = _VECTOR_OPS[operator]
        mask = lambda values: compare(values, target)  # noqa: E731
    elif operator == "BETWEEN" and raw.get("value") is not None and raw.get("highValue") is not None:
        low, high = parse(str(raw["value"])), parse(str(raw["highValue"]))
        if low is None or high is None:
            return None
        mask = lambda values: (values >= low) & (values <= high)  # noqa: E731
    elif operator == "HAS_PROPERTY":
        mask = lambda values: ~np.isnan(values)  # noqa: E731
    elif operator == "NOT_HAS_PROPERTY":
        mask = np.isnan
    elif operator in ("IN", "NOT_IN") and isinstance(raw.get("values"), list):
        wanted = np.array(
            [n for n in (parse(str(v)) for v in raw["values"]) if n is not None], dtype=np.float64
        )
        if operator == "IN":
            mask = lambda values: np.isin(values, wanted)  # noqa: E731
        else:
            mask = lambda values: ~np.isin(values, wanted)  # noqa: E731
    if mask is None:
        return None
    return CompiledFilter(lambda record_id, doc: True, name, parse, mask)


def compile_groups(
    groups: Any,
    definitions: dict[str, PropertyDef],
    association_check: Callable[[str, str], Callable[[int], bool]],
) -> list[list[CompiledFilter]]:
    if groups in (None, []):
        return []
    if not isinstance(groups, list):
        raise validation_error("filterGroups must be an array")
    if len(groups) > MAX_GROUPS:
        raise validation_error(f"Too many filter groups: {len(groups)}. The maximum is {MAX_GROUPS}.")
    total = 0
    compiled = []
    for group in groups:
        filters = group.get("filters", []) if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise validation_error("Every filter group needs `filters`, an array")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise validation_error(
                f"Too many filters in a group: {len(filters)}. The maximum is {MAX_FILTERS_PER_GROUP}."
            )
        total += len(filters)
        group_filters = []
        for item in filters:
            predicate = compile_filter(item, definitions, association_check)  # validates every filter
            name = str(item["propertyName"])
            group_filters.append(_vectorised(item, definitions.get(name), name) or CompiledFilter(predicate))
        compiled.append(group_filters)
    if total > MAX_FILTERS:
        raise validation_error(f"Too many filters: {total}. The maximum is {MAX_FILTERS} in all groups.")
    return compiled


def parse_sort(sorts: Any) -> tuple[str, bool] | None:
    """(property, descending) from either the object form or the string form ("-createdate")."""
    if sorts in (None, []):
        return None
    if not isinstance(sorts, list):
        raise validation_error("sorts must be an array")
    if len(sorts) > 1:
        raise validation_error("Only one sort is allowed.")
    sort = sorts[0]
    if isinstance(sort, str):
        return (sort[1:], True) if sort.startswith("-") else (sort, False)
    if isinstance(sort, dict) and sort.get("propertyName"):
        return str(sort["propertyName"]), str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
    raise validation_error(f"Invalid sort {sort!r}")
