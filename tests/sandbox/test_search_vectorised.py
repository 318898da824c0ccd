"""Numeric filters run twice in the code: as per-record predicates and as numpy masks. On random data
(missing values, ISO and epoch dates) and random filters both must select the same records, and the sort
must be the predicate order. (Unparsable numbers cannot occur: writes validate them.) No HTTP."""

from __future__ import annotations

import random

from hubspot_pipeline.sandbox.property_defs import default_properties
from hubspot_pipeline.sandbox.search_engine import compile_filter, compile_groups
from hubspot_pipeline.sandbox.search_index import SearchIndex
from hubspot_pipeline.sandbox.search_query import run_search

DEFINITIONS = {p.name: p for p in default_properties("companies")}
OPERATORS = [
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
]


def _no_associations(to_name: str, value: str):  # type: ignore[no-untyped-def]
    return lambda record_id: False


def _random_doc(rng: random.Random, record_id: int) -> dict[str, str]:
    doc: dict[str, str] = {"hs_object_id": str(record_id)}
    if rng.random() < 0.8:
        doc["numberofemployees"] = str(rng.randrange(20))
    if rng.random() < 0.85:
        epoch = 1_700_000_000_000 + rng.randrange(10) * 1000
        doc["hs_lastmodifieddate"] = (
            str(epoch) if rng.random() < 0.5 else f"2023-11-14T22:13:{20 + (epoch // 1000) % 10:02d}.000Z"
        )
    return doc


def _random_filter(rng: random.Random) -> dict:
    name = rng.choice(["numberofemployees", "hs_lastmodifieddate", "hs_object_id"])
    operator = rng.choice(OPERATORS)
    if name == "numberofemployees":
        value = lambda: str(rng.randrange(20))  # noqa: E731
    elif name == "hs_lastmodifieddate":
        value = lambda: str(1_700_000_000_000 + rng.randrange(10) * 1000)  # noqa: E731
    else:
        value = lambda: str(rng.randrange(500))  # noqa: E731
    raw: dict = {"propertyName": name, "operator": operator}
    if operator in ("IN", "NOT_IN"):
        raw["values"] = [value() for _ in range(3)]
    elif operator == "BETWEEN":
        raw["value"], raw["highValue"] = sorted([value(), value()], key=float)
    elif operator not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        raw["value"] = value()
    return raw


def test_masks_and_predicates_select_the_same_records() -> None:
    rng = random.Random(5)
    index = SearchIndex()
    docs = {record_id: _random_doc(rng, record_id) for record_id in range(500)}
    for record_id, doc in docs.items():
        index.put(record_id, doc, None)
    for _ in range(300):
        groups_raw = [
            {"filters": [_random_filter(rng) for _ in range(rng.randint(1, 3))]}
            for _ in range(rng.randint(1, 3))
        ]
        groups = compile_groups(groups_raw, DEFINITIONS, _no_associations)
        ordered, ids, _ = run_search(index, groups, [], (), ("numberofemployees", False), DEFINITIONS, None)
        got = [int(ids[p]) for p in ordered]
        predicates = [
            [compile_filter(f, DEFINITIONS, _no_associations) for f in g["filters"]] for g in groups_raw
        ]
        expected = {i for i, d in docs.items() if any(all(p(i, d) for p in group) for group in predicates)}
        assert set(got) == expected, groups_raw

        def number(record_id: int) -> float | None:
            try:
                return float(docs[record_id]["numberofemployees"])
            except (KeyError, ValueError):
                return None

        keys = [(number(i) is None, number(i) or 0.0, i) for i in got]
        assert keys == sorted(keys)


def test_a_page_by_id_is_the_full_sort_s_page_whichever_direction() -> None:
    rng = random.Random(9)
    index = SearchIndex()
    record_ids = rng.sample(range(10_000), 2_000)  # inserted out of order, as merges and restores leave them
    for record_id in record_ids:
        index.put(record_id, {"hs_object_id": str(record_id)}, None)
    for record_id in record_ids[:300]:
        index.remove(record_id, None)
    live = sorted(record_ids[300:])
    for descending in (False, True):
        expected = live[::-1] if descending else live
        for after, limit in ((0, 200), (200, 200), (1_500, 200), (0, 1_700), (1_690, 200)):
            ordered, ids, _ = run_search(
                index, [], [], (), ("hs_object_id", descending), DEFINITIONS, None, needed=after + limit
            )
            assert len(ordered) == len(live)
            assert [int(ids[p]) for p in ordered[after : after + limit]] == expected[after : after + limit]
