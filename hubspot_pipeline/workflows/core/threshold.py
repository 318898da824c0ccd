"""Threshold crossings and cooldowns.

A high_engagement trigger fires once per crossing: when the lead's score reaches its threshold while the
trigger is armed for that lead. Firing disarms it; the score falling back below the threshold re-arms it. A
lead the trigger has never seen is armed unless its score was already at or above the threshold before this
change (a trigger created for a lead already "hot" waits for the next crossing, not the next change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThresholdStep:
    fires: bool
    armed: bool  # the state to keep for the next change


def threshold_step(
    armed: bool | None, old_score: float | None, new_score: float, threshold: float
) -> ThresholdStep:
    if armed is None:
        armed = old_score is None or old_score < threshold
    if new_score < threshold:
        return ThresholdStep(False, True)
    return ThresholdStep(armed, False)


def in_cooldown(last_fired_at: datetime | None, now: datetime, cooldown: timedelta) -> bool:
    return last_fired_at is not None and cooldown > timedelta(0) and now < last_fired_at + cooldown
