"""Which score thresholds a workspace's crossings are judged against, and when a change crosses one. Pure.

The thresholds are those of the workspace's enabled `high_engagement` workflow triggers: their `threshold`,
and a condition on the score (`score`, `engagement.score` or `engagement_score`) with `gte` (at or above v) or `gt` (above v, so
v + 1). A workspace with none uses its configured default high-engagement threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

HIGH_ENGAGEMENT = "high_engagement"
SCORE_FIELDS = frozenset({"score", "engagement.score", "engagement_score", "coldcopy_engagement_score"})


def trigger_thresholds(conditions: object) -> set[int]:
    """The score thresholds a trigger's conditions (a list of {field, op, value}) name; malformed ones are
    ignored here (the trigger API refuses them when they are saved)."""
    found: set[int] = set()
    if not isinstance(conditions, list):
        return found
    for condition in conditions:
        if not isinstance(condition, Mapping) or condition.get("field") not in SCORE_FIELDS:
            continue
        value, op = condition.get("value"), condition.get("op")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        threshold = math.ceil(value) if op == "gte" else math.floor(value) + 1 if op == "gt" else None
        if threshold is not None and 1 <= threshold <= 100:
            found.add(int(threshold))
    return found


def workspace_thresholds(triggers: Iterable[Mapping[str, Any]], default: int) -> list[int]:
    """Thresholds of the enabled high-engagement triggers, or `default` when there is none."""
    found: set[int] = set()
    for trigger in triggers:
        if trigger.get("enabled") is not False and trigger.get("event_type") == HIGH_ENGAGEMENT:
            found |= trigger_thresholds(trigger.get("conditions"))
            # The trigger's own threshold (the workflow-trigger API requires one on high_engagement triggers).
            own = trigger.get("threshold")
            if isinstance(own, int) and not isinstance(own, bool) and 1 <= own <= 100:
                found.add(own)
    return sorted(found) if found else [default]


def crossings(old: int | None, new: int, thresholds: Iterable[int]) -> list[tuple[int, str]]:
    """(threshold, "up" | "down") for each threshold the change from `old` (None: no score yet, as 0) to `new`
    crossed: up when it reached it from below, down when it fell below it."""
    before = old or 0
    result: list[tuple[int, str]] = []
    for threshold in sorted(thresholds):
        if before < threshold <= new:
            result.append((threshold, "up"))
        elif new < threshold <= before:
            result.append((threshold, "down"))
    return result
