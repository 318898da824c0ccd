"""The engagement score's settings: points per kind of event, the decay's half-life, and the default
high-engagement threshold. Pure; validated here for PUT /config, used by the dbt models through dbt vars.

The score (docs/architecture.md, "Engagement score"): each event is worth its workspace's weight for its
kind, halved every `half_life_days` of age at the reference time (UTC midnight of the build's day), summed
over the lead's events, rounded, and kept within 0..100. A reply whose intent is `interested` counts as a
`positive_reply` instead of a `reply`; one that asks to unsubscribe counts as an `unsubscribe`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

WEIGHT_KINDS = ("open", "click", "reply", "positive_reply", "bounce", "unsubscribe")
# The migration's column default (0007) is a frozen copy of these; tests/scoring assert they agree.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "open": 2, "click": 5, "reply": 15, "positive_reply": 40, "bounce": -20, "unsubscribe": -60,
}  # fmt: skip
DEFAULT_HALF_LIFE_DAYS = 14.0
DEFAULT_HIGH_THRESHOLD = 60
MAX_ABS_WEIGHT = 1000
MAX_HALF_LIFE_DAYS = 3650


class WeightsError(ValueError):
    """A scoring setting that cannot be used; the message names it and says what is allowed."""


def validated_weights(value: object) -> dict[str, float]:
    """Weights as given by a user (a partial object is completed from the defaults)."""
    if not isinstance(value, Mapping):
        raise WeightsError(f"engagement_weights must be an object with the keys {', '.join(WEIGHT_KINDS)}")
    unknown = sorted(str(key) for key in value if key not in WEIGHT_KINDS)
    if unknown:
        raise WeightsError(
            f"engagement_weights: unknown kind(s) {', '.join(unknown)}; the kinds are {', '.join(WEIGHT_KINDS)}"
        )
    weights = dict(DEFAULT_WEIGHTS)
    for kind, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise WeightsError(f"engagement_weights.{kind} must be a number, got {type(weight).__name__}")
        if abs(weight) > MAX_ABS_WEIGHT:
            raise WeightsError(
                f"engagement_weights.{kind} is {weight}: weights are points of a 0-100 score, "
                f"keep them within -{MAX_ABS_WEIGHT}..{MAX_ABS_WEIGHT}"
            )
        weights[kind] = float(weight)
    return weights


def validated_half_life(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WeightsError("engagement_half_life_days must be a number of days")
    if not 0 < value <= MAX_HALF_LIFE_DAYS:
        raise WeightsError(
            f"engagement_half_life_days is {value}: it must be above 0 and at most {MAX_HALF_LIFE_DAYS} days"
        )
    return float(value)


def validated_threshold(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise WeightsError("engagement_high_threshold must be a whole number from 1 to 100")
    return value


def score(points: float) -> int:
    """The score of a sum of decayed points: rounded half away from zero (as PostgreSQL's round), 0..100."""
    rounded = math.floor(abs(points) + 0.5) * (1 if points >= 0 else -1)
    return max(0, min(100, rounded))


def decayed(weight: float, age_days: float, half_life_days: float) -> float:
    """One event's points at an age (days before the reference time; events after it count in full)."""
    return weight * 0.5 ** (max(0.0, age_days) / half_life_days)
