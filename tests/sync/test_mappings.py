"""Transforms (parsing, both directions, never evaluating user text), mapping validation as the API calls it
on save, canonical values and hashes. Pure: no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hubspot_pipeline.sync.core.hashing import HASH_KEY, _signature, hash_agreed, hash_frame, hash_values
from hubspot_pipeline.sync.core.mapping import FieldMapping, compile_mappings, validate_mapping_set
from hubspot_pipeline.sync.core.transforms import TransformError, parse_transform
from tests.sync.helpers import canon_leads


def run(text: str, *values: str) -> list[str]:
    return parse_transform(text).to_hubspot(pd.Series(list(values), dtype=object)).tolist()


def back(text: str, *values: str) -> list[str]:
    return parse_transform(text).from_hubspot(pd.Series(list(values), dtype=object)).tolist()


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("trim | lowercase", ["  Ada@X.COM ", ""], ["ada@x.com", ""]),
        ("uppercase", ["ab"], ["AB"]),
        ("title_case", ["ada lovelace"], ["Ada Lovelace"]),
        ("truncate(3)", ["abcdef", "ab"], ["abc", "ab"]),
        ('default("unknown")', ["", "x"], ["unknown", "x"]),
        ('map({"interested": "lead", "replied": "opportunity"})', ["interested", "new"], ["lead", "new"]),
        ('map{"a": "b"}', ["a"], ["b"]),
        ('date("%d/%m/%Y")', ["27/11/2026", "", "not a date"], ["2026-11-27", "", ""]),
        (
            "datetime",
            ["2026-11-29T09:30:00Z", "2026-11-29T10:30:00.123456+01:00", "2026-11-29 09:30", "", "soon"],
            ["2026-11-29T09:30:00.000Z", "2026-11-29T09:30:00.123Z", "2026-11-29T09:30:00.000Z", "", ""],
        ),
        ("number", ["42.0", "3.5", "x", ""], ["42", "3.5", "", ""]),
        ("bool", ["Yes", "0", "maybe"], ["true", "false", ""]),
        ('split_name("first")', ["Ada King Lovelace", "Plato"], ["Ada", "Plato"]),
        ('split_name("last")', ["Ada King Lovelace", "Plato"], ["King Lovelace", ""]),
        ('trim | map({"a|b": "c"})', [" a|b "], ["c"]),
    ],
)
def test_each_transform_turns_coldcopy_values_into_hubspot_values(text, values, expected):
    assert run(text, *values) == expected


def test_reversible_transforms_bring_hubspot_values_back():
    assert back('map({"interested": "lead"})', "lead", "other") == ["interested", "other"]
    assert back('date("%d/%m/%Y")', "2026-11-27") == ["27/11/2026"]
    assert not parse_transform('split_name("first")').reversible
    assert not parse_transform('map({"a": "x", "b": "x"})').reversible


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('x')", "unknown transform"),
        ("lowercase(1)", "takes no arguments"),
        ("truncate(-1)", "positive whole number"),
        ("truncate('5')", "not valid JSON"),
        ("default('x')", "double quotes"),
        ("map({})", "JSON object"),
        ('date("no format")', "strftime format"),
        ("trim |", "empty step"),
        ('map({"a": "b"}', "never closed"),
    ],
)
def test_bad_transforms_are_refused_with_what_to_do(text, fragment):
    with pytest.raises(TransformError, match=fragment):
        parse_transform(text)


PROPERTIES = [
    {"name": "email", "type": "string", "fieldType": "text"},
    {"name": "firstname", "type": "string", "fieldType": "text"},
    {
        "name": "hs_object_id",
        "type": "number",
        "fieldType": "number",
        "modificationMetadata": {"readOnlyValue": True},
    },
    {
        "name": "lifecyclestage",
        "type": "enumeration",
        "fieldType": "radio",
        "options": [{"value": "lead"}, {"value": "customer"}],
    },
    {"name": "birthday", "type": "date", "fieldType": "date"},
    {"name": "employees", "type": "number", "fieldType": "number"},
]


def test_a_good_mapping_set_has_no_problems():
    mappings = [
        {"coldcopy_field": "email", "hubspot_property": "email", "direction": "bidirectional"},
        {
            "coldcopy_field": "first_name",
            "hubspot_property": "firstname",
            "direction": "bidirectional",
            "transform_function": "trim | title_case",
        },
        {
            "coldcopy_field": "status",
            "hubspot_property": "lifecyclestage",
            "direction": "to_hubspot",
            "transform_function": 'map({"new": "lead", "interested": "customer"})',
        },
        {
            "coldcopy_field": "custom_fields.dob",
            "hubspot_property": "birthday",
            "direction": "bidirectional",
            "transform_function": 'date("%d/%m/%Y")',
        },
        {
            "coldcopy_field": "custom_fields.size",
            "hubspot_property": "employees",
            "direction": "to_hubspot",
            "transform_function": "number",
        },
        {"coldcopy_field": "title", "hubspot_property": "coldcopy_title", "direction": "to_hubspot"},
    ]
    assert validate_mapping_set(mappings, PROPERTIES) == []


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"coldcopy_field": "nickname", "hubspot_property": "firstname"}, "does not exist; use one of"),
        (
            {"coldcopy_field": "title", "hubspot_property": "hs_object_id", "direction": "to_hubspot"},
            "refuses writes",
        ),
        ({"coldcopy_field": "title", "hubspot_property": "Bad Name!"}, "cannot be created"),
        ({"coldcopy_field": "title", "hubspot_property": "firstname", "direction": "sideways"}, "direction"),
        (
            {
                "coldcopy_field": "title",
                "hubspot_property": "x1",
                "transform_function": 'split_name("first")',
            },
            "cannot be reversed",
        ),
        (
            {"coldcopy_field": "status", "hubspot_property": "lifecyclestage", "direction": "to_hubspot"},
            "add a map",
        ),
        (
            {
                "coldcopy_field": "status",
                "hubspot_property": "lifecyclestage",
                "direction": "to_hubspot",
                "transform_function": 'map({"new": "prospect"})',
            },
            "not options",
        ),
        ({"coldcopy_field": "custom_fields.dob", "hubspot_property": "birthday"}, "add a date"),
        ({"coldcopy_field": "custom_fields.n", "hubspot_property": "employees"}, "number"),
        ({"coldcopy_field": "title", "hubspot_property": "email"}, "match key"),
        ({"coldcopy_field": "first_name+last_name", "hubspot_property": "fullname_x"}, "join_name"),
        (
            {"coldcopy_field": "title", "hubspot_property": "x2", "transform_function": "bogus"},
            "unknown transform",
        ),
        (
            {"coldcopy_field": "title", "hubspot_property": "x3", "conflict_policy": "newest"},
            "conflict_policy",
        ),
    ],
)
def test_each_bad_mapping_is_named_with_what_to_do(mapping, fragment):
    problems = validate_mapping_set(
        [{"coldcopy_field": "email", "hubspot_property": "email"}, mapping], PROPERTIES
    )
    assert problems, f"expected a problem containing {fragment!r}"
    assert all(p.index == 1 for p in problems)
    assert any(fragment in p.message for p in problems), [str(p) for p in problems]
    assert str(problems[0]).startswith("mapping #2 (")


def test_a_property_or_a_lead_field_mapped_twice_is_a_problem():
    mappings = [
        FieldMapping("first_name", "firstname"),
        FieldMapping("last_name", "firstname"),
        FieldMapping("first_name", "coldcopy_first"),
    ]
    messages = [str(p) for p in validate_mapping_set(mappings, {p["name"]: p for p in PROPERTIES})]
    assert any("already mapped by mapping #1" in m for m in messages)
    assert any("already filled from HubSpot by mapping #1" in m for m in messages)


def test_joined_fields_go_out_joined_and_come_back_split():
    mapping_set = compile_mappings(
        [FieldMapping("first_name+last_name", "fullname_x", "bidirectional", "join_name")]
    )
    frame = canon_leads(
        {"L1": {"email": "a@x.com", "first_name": "Ada", "last_name": "King Lovelace"}}, mapping_set
    )
    assert frame.loc["L1", "fullname_x"] == "Ada King Lovelace"
    from hubspot_pipeline.sync.core.mapping import lead_updates_from_canonical

    parts = lead_updates_from_canonical(pd.Series(["Grace Hopper"]), mapping_set.by_column("fullname_x"))
    assert {k: v.tolist() for k, v in parts.items()} == {"first_name": ["Grace"], "last_name": ["Hopper"]}


def test_custom_fields_and_empty_values_canonicalise_to_text():
    mapping_set = compile_mappings([FieldMapping("custom_fields.size", "employees", "to_hubspot", "number")])
    frame = canon_leads(
        {"L1": {"email": " A@X.com", "custom_fields": {"size": 12}}, "L2": {"email": "b@x.com"}}, mapping_set
    )
    assert frame.to_dict("index") == {
        "L1": {"email": "a@x.com", "employees": "12"},
        "L2": {"email": "b@x.com", "employees": ""},
    }


def test_hashes_are_stable_and_match_between_leads_and_agreed_values():
    frame = pd.DataFrame({"email": ["a@x.com", "b@x.com"], "firstname": ["Ada", ""]}, dtype=object)
    hashes = hash_frame(frame, ["email", "firstname"]).tolist()
    assert hashes == hash_frame(frame[["firstname", "email"]], ["firstname", "email"]).tolist()
    assert hashes == hash_agreed(frame.to_dict("records"), ["email", "firstname"])
    assert hashes[0] != hashes[1]
    # Adding a field changes every hash, even when the field is empty.
    assert hash_frame(frame.assign(x=""), ["email", "firstname", "x"]).tolist() != hashes


def test_row_hashes_are_the_ones_earlier_runs_stored():
    # Regression guard: `sync_hash` of every pair was stored by pandas' hash_pandas_object over the sorted
    # columns and the fields' signature; hash_values computes it column by column, and a hash that moved
    # would send every pair of a full resync to the plan once.
    frame = pd.DataFrame(
        {
            "email": ["ana@example.com", "bo@example.com", "ana@example.com"],
            "firstname": ["Ana", "Bø 日本", ""],
        },
        dtype=object,
    )
    assert hash_frame(frame, ["email", "firstname"]).tolist() == [
        "fef18ca968c81590",
        "224c33bcae5fb972",
        "d505aee2649833cd",
    ]
    mixed = frame.assign(score=["12", None, 3.5], status=["new", "new", "new"], opens=[1.0, np.nan, 2.0])
    columns = ["status", "email", "score", "firstname", "opens"]
    ordered = mixed[sorted(columns)].copy()
    ordered["\x00fields"] = _signature(sorted(columns))
    pandas_hash = pd.util.hash_pandas_object(ordered, index=False, hash_key=HASH_KEY).to_numpy(
        dtype=np.uint64
    )
    assert hash_values(mixed, columns).tolist() == pandas_hash.tolist()
    assert hash_values(mixed.iloc[:0], columns).tolist() == []
