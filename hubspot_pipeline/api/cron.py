"""Validation of five-field cron expressions (minute hour day-of-month month day-of-week), the form Dagster
schedules take. Kept here so the API refuses a bad schedule when it is saved rather than when a schedule
is next evaluated."""

from __future__ import annotations

import re

_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i + 1
            for i, m in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    ("day of week", 0, 7, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
)
_ITEM = re.compile(r"^(?P<range>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?$")


def _value(text: str, low: int, high: int, names: dict[str, int]) -> int | None:
    value = names.get(text) if not text.isdigit() else int(text)
    return value if value is not None and low <= value <= high else None


def cron_problems(expression: str) -> list[str]:
    """Everything wrong with a cron expression; an empty list means it is valid."""
    fields = expression.lower().split()
    if len(fields) != 5:
        return [
            f"a cron schedule has 5 fields (minute hour day-of-month month day-of-week); got {len(fields)}"
        ]
    problems = []
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for item in text.split(","):
            match = _ITEM.match(item)
            if match is None:
                problems.append(
                    f"{name} field: {item!r} is not *, a value, a range a-b, or one of them with /step"
                )
                continue
            step = match.group("step")
            if step is not None and int(step) == 0:
                problems.append(f"{name} field: the step in {item!r} must be at least 1")
            if match.group("range") == "*":
                continue
            bounds = [_value(part, low, high, names) for part in match.group("range").split("-")]
            if any(bound is None for bound in bounds):
                problems.append(f"{name} field: {item!r} is outside {low}-{high}")
            elif len(bounds) == 2 and bounds[0] > bounds[1]:  # type: ignore[operator]
                problems.append(f"{name} field: the range {item!r} runs backwards")
    return problems
