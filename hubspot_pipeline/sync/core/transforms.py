"""Named, parameterised value transforms for field mappings, and the small parser that reads them.

A mapping's `transform_function` is a pipeline of steps separated by `|`, for example
`trim | lowercase`, `truncate(50)`, `default("unknown")`, `map({"interested": "lead"})` (or the short
form `map{"interested": "lead"}`), `date("%d/%m/%Y")`, `split_name("first")`. Arguments are JSON literals;
the text is parsed, never evaluated.

Each step turns the ColdCopy value into the HubSpot value (`to_hubspot`) and, where that can be undone,
the HubSpot value back into the ColdCopy value (`from_hubspot`). Steps with no way back (`split_name`, a
`map` whose values repeat) may only be used by `to_hubspot` mappings. Values are strings; "" means empty.
All steps work on whole pandas Series at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

HUBSPOT_DATE_FORMAT = "%Y-%m-%d"


class TransformError(ValueError):
    """A transform text that cannot be parsed or whose arguments are wrong; the message says how to fix it."""


SeriesFn = Callable[[pd.Series], pd.Series]


@dataclass(frozen=True)
class Step:
    """One parsed step: its name, arguments, and the two directions (`from_hubspot` None: no way back)."""

    name: str
    args: tuple[object, ...]
    to_hubspot: SeriesFn
    from_hubspot: SeriesFn | None
    # HubSpot property types this step's output suits; None means any text-like property.
    produces: frozenset[str] | None = None

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(json.dumps(arg) for arg in self.args)})"


@dataclass(frozen=True)
class Pipeline:
    """A parsed transform: steps applied left to right towards HubSpot, right to left back."""

    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def reversible(self) -> bool:
        return all(step.from_hubspot is not None for step in self.steps)

    @property
    def produces(self) -> frozenset[str] | None:
        for step in reversed(self.steps):
            if step.produces is not None:
                return step.produces
        return None

    def to_hubspot(self, values: pd.Series) -> pd.Series:
        for step in self.steps:
            values = step.to_hubspot(values)
        return values

    def from_hubspot(self, values: pd.Series) -> pd.Series:
        for step in reversed(self.steps):
            if step.from_hubspot is None:
                raise TransformError(
                    f"transform {step} cannot be reversed; use it on a to_hubspot mapping only"
                )
            values = step.from_hubspot(values)
        return values

    def __str__(self) -> str:
        return " | ".join(str(step) for step in self.steps)


def _same(values: pd.Series) -> pd.Series:
    return values


def _each(fn: Callable[[str], str]) -> SeriesFn:
    """Apply a str method to every value. A list comprehension over the object array is about twice as
    fast as pandas' `.str` accessor here, which matters when a full resync canonicalises a million leads."""

    def apply(values: pd.Series) -> pd.Series:
        out = [fn(v) if isinstance(v, str) else "" for v in values.to_numpy(dtype=object)]
        return pd.Series(out, index=values.index, dtype=object)

    return apply


def _no_args(name: str, args: Sequence[object]) -> None:
    if args:
        raise TransformError(f"{name} takes no arguments (got {len(args)}); write just `{name}`")


def _lowercase(args: Sequence[object]) -> Step:
    _no_args("lowercase", args)
    return Step("lowercase", (), _each(str.lower), _same)


def _uppercase(args: Sequence[object]) -> Step:
    _no_args("uppercase", args)
    return Step("uppercase", (), _each(str.upper), _same)


def _trim(args: Sequence[object]) -> Step:
    _no_args("trim", args)
    return Step("trim", (), _each(str.strip), _same)


def _title_case(args: Sequence[object]) -> Step:
    _no_args("title_case", args)
    return Step("title_case", (), _each(str.title), _same)


def _truncate(args: Sequence[object]) -> Step:
    if len(args) != 1 or not isinstance(args[0], int) or isinstance(args[0], bool) or args[0] < 1:
        raise TransformError("truncate needs one positive whole number, the maximum length: truncate(100)")
    length = args[0]
    return Step("truncate", (length,), _each(lambda v: v[:length]), _same)


def _default(args: Sequence[object]) -> Step:
    if len(args) != 1 or not isinstance(args[0], str):
        raise TransformError('default needs one text value in double quotes: default("unknown")')
    value = args[0]

    def fill(values: pd.Series) -> pd.Series:
        return values.where(values != "", value)

    return Step("default", (value,), fill, _same)


def _map(args: Sequence[object]) -> Step:
    if len(args) != 1 or not isinstance(args[0], dict) or not args[0]:
        raise TransformError('map needs one JSON object of text to text: map({"interested": "lead"})')
    table = args[0]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise TransformError('map keys and values must all be text in double quotes: map({"a": "b"})')

    def lookup(mapping: dict[str, str]) -> SeriesFn:
        def apply(values: pd.Series) -> pd.Series:
            return values.map(mapping).fillna(values).astype(object)

        return apply

    reverse = {v: k for k, v in table.items()}
    back = lookup(reverse) if len(reverse) == len(table) else None
    return Step("map", (table,), lookup(table), back, produces=None)


def _reformat(source: str, target: str) -> SeriesFn:
    def apply(values: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(values.where(values != ""), format=source, errors="coerce")
        return parsed.dt.strftime(target).fillna("").astype(object)

    return apply


def _date(args: Sequence[object]) -> Step:
    if len(args) != 1 or not isinstance(args[0], str) or "%" not in args[0]:
        raise TransformError(
            'date needs the ColdCopy value\'s strftime format in double quotes, for example date("%d/%m/%Y"); '
            "HubSpot's side is always YYYY-MM-DD"
        )
    fmt = args[0]
    try:
        datetime(2001, 2, 3).strftime(fmt)
    except ValueError as error:
        raise TransformError(f"date format {fmt!r} is not a valid strftime format: {error}") from None
    return Step(
        "date",
        (fmt,),
        _reformat(fmt, HUBSPOT_DATE_FORMAT),
        _reformat(HUBSPOT_DATE_FORMAT, fmt),
        produces=frozenset({"date", "string"}),
    )


def _datetime(args: Sequence[object]) -> Step:
    """An ISO 8601 time as HubSpot keeps a datetime property: UTC with milliseconds
    (`2026-11-29T09:30:00.000Z`), so what the sync pushes is what it reads back. A time without a zone is
    taken as UTC; what does not parse becomes empty."""
    _no_args("datetime", args)

    def apply(values: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(values.where(values != ""), utc=True, errors="coerce", format="ISO8601")
        text = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
        return text.fillna("").astype(object)

    return Step("datetime", (), apply, apply, produces=frozenset({"datetime", "string"}))


def _number(args: Sequence[object]) -> Step:
    _no_args("number", args)

    def apply(values: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(values.where(values != ""), errors="coerce")
        text = numbers.map(
            lambda n: "" if pd.isna(n) else (str(int(n)) if float(n).is_integer() else repr(float(n)))
        )
        return text.astype(object)

    return Step("number", (), apply, _same, produces=frozenset({"number", "string"}))


TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})


def _bool(args: Sequence[object]) -> Step:
    _no_args("bool", args)

    def apply(values: pd.Series) -> pd.Series:
        lowered = values.astype(object).str.strip().str.lower()
        result = pd.Series("", index=values.index, dtype=object)
        result[lowered.isin(TRUE_WORDS)] = "true"
        result[lowered.isin(FALSE_WORDS)] = "false"
        return result

    return Step("bool", (), apply, _same, produces=frozenset({"bool", "enumeration", "string"}))


def _split_name(args: Sequence[object]) -> Step:
    if len(args) != 1 or args[0] not in ("first", "last"):
        raise TransformError('split_name needs which part to keep: split_name("first") or split_name("last")')
    part = args[0]

    def apply(values: pd.Series) -> pd.Series:
        pieces = values.astype(object).str.strip().str.split(" ", n=1, expand=True)
        if pieces.shape[1] < 2:
            pieces[1] = None
        chosen = pieces[0] if part == "first" else pieces[1]
        return chosen.fillna("").astype(object)

    return Step("split_name", (part,), apply, None)


def _join_name(args: Sequence[object]) -> Step:
    # The join itself happens when the source names several fields (`first_name+last_name`); the step marks
    # the intent and its way back splits the HubSpot value at the first space (see mapping.py).
    _no_args("join_name", args)
    return Step("join_name", (), _each(str.strip), _same)


BUILDERS: dict[str, Callable[[Sequence[object]], Step]] = {
    "lowercase": _lowercase,
    "uppercase": _uppercase,
    "trim": _trim,
    "title_case": _title_case,
    "truncate": _truncate,
    "default": _default,
    "map": _map,
    "date": _date,
    "datetime": _datetime,
    "number": _number,
    "bool": _bool,
    "split_name": _split_name,
    "join_name": _join_name,
}
MAX_TRANSFORM_LENGTH = 4000


def _unquoted(text: str) -> tuple[list[tuple[int, str]], bool]:
    """The characters of a transform outside double-quoted text (where a backslash escapes the next character),
    with their positions; and whether a quote is still open at the end."""
    outside: list[tuple[int, str]] = []
    quote = escaped = False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quote = False
        elif char == '"':
            quote = True
        else:
            outside.append((index, char))
    return outside, quote


def transform_nesting(text: str) -> int:
    """How deep brackets nest in a transform, outside double-quoted text (which the parser reads as text)."""
    deepest = depth = 0
    for _, char in _unquoted(text)[0]:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _split_top_level(text: str) -> list[str]:
    """Split at `|` outside quotes, parentheses and braces."""
    parts: list[str] = []
    depth, start = 0, 0
    outside, quote_open = _unquoted(text)
    for index, char in outside:
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
            if depth < 0:
                raise TransformError(f"unbalanced {char!r} at position {index + 1} of the transform")
        elif char == "|" and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if quote_open:
        raise TransformError("a double quote is never closed in the transform")
    if depth:
        raise TransformError("a bracket is never closed in the transform")
    parts.append(text[start:])
    return parts


def _parse_step(text: str) -> Step:
    text = text.strip()
    if not text:
        raise TransformError("empty step in the transform: remove the extra `|`")
    name_end = len(text)
    for index, char in enumerate(text):
        if char in "({":
            name_end = index
            break
    name = text[:name_end].strip()
    rest = text[name_end:].strip()
    if name not in BUILDERS:
        known = ", ".join(sorted(BUILDERS))
        raise TransformError(f"unknown transform {name!r}; use one of: {known}")
    args: list[object] = []
    if rest:
        if rest.startswith("{"):
            arg_text = rest  # map{...} short form: the whole object is the one argument
        elif rest.startswith("(") and rest.endswith(")"):
            arg_text = rest[1:-1].strip()
        else:
            raise TransformError(f"cannot read the arguments of {name}: write {name}(...)")
        if arg_text:
            try:
                parsed = json.loads(f"[{arg_text}]")
            except json.JSONDecodeError:
                hint = " (text needs double quotes, not single)" if "'" in arg_text else ""
                raise TransformError(f"arguments of {name} are not valid JSON{hint}: {arg_text}") from None
            args = list(parsed)
    return BUILDERS[name](args)


def parse_transform(text: str | None) -> Pipeline:
    """Parse a `transform_function` text into a Pipeline; raises TransformError saying what to fix."""
    if text is None or not text.strip():
        return Pipeline(())
    if len(text) > MAX_TRANSFORM_LENGTH:
        raise TransformError(f"the transform is {len(text)} characters; keep it under {MAX_TRANSFORM_LENGTH}")
    return Pipeline(tuple(_parse_step(part) for part in _split_top_level(text)))
