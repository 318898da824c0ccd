"""The scoring's pure rules: which thresholds a workspace's triggers name, when a score change crosses one, and
the weights PUT /config accepts (the migration's column default is the same as the Python defaults)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hubspot_pipeline.scoring.thresholds import crossings, trigger_thresholds, workspace_thresholds
from hubspot_pipeline.scoring.weights import (
    DEFAULT_WEIGHTS,
    WeightsError,
    decayed,
    score,
    validated_half_life,
    validated_threshold,
    validated_weights,
)


def test_thresholds_come_from_enabled_high_engagement_triggers_else_the_default() -> None:
    triggers = [
        {"enabled": True, "event_type": "high_engagement", "conditions": [{"field": "score", "op": "gte", "value": 70}]},
        {"enabled": True, "event_type": "high_engagement", "conditions": [{"field": "engagement.score", "op": "gt", "value": 49.5}]},
        {"enabled": False, "event_type": "high_engagement", "conditions": [{"field": "score", "op": "gte", "value": 10}]},
        {"enabled": True, "event_type": "positive_reply", "conditions": [{"field": "score", "op": "gte", "value": 20}]},
    ]  # fmt: skip
    assert workspace_thresholds(triggers, default=60) == [50, 70]
    assert workspace_thresholds(triggers[2:], default=60) == [60]
    # A trigger saved through POST /workflows carries its threshold in its own column.
    saved = {"enabled": True, "event_type": "high_engagement", "conditions": [], "threshold": 65}
    assert workspace_thresholds([saved, {**saved, "threshold": None}], default=60) == [65]
    # Malformed conditions name no threshold (the trigger API refuses them when saved).
    assert trigger_thresholds([{"field": "score", "op": "gte", "value": "70"}, "x", {"op": "gte"}]) == set()
    assert trigger_thresholds([{"field": "score", "op": "gte", "value": True}]) == set()
    assert trigger_thresholds("[]") == set()


def test_a_crossing_is_up_when_reached_from_below_and_down_when_fallen_below() -> None:
    assert crossings(55, 72, [60, 70, 80]) == [(60, "up"), (70, "up")]
    assert crossings(72, 60, [60, 70]) == [(70, "down")]  # 60 is reached, not fallen below
    assert crossings(None, 65, [60]) == [(60, "up")]
    assert crossings(60, 60, [60]) == []
    assert crossings(59, 60, [60]) == [(60, "up")]


def test_weights_are_completed_from_the_defaults_and_bad_ones_are_refused_by_name() -> None:
    assert validated_weights({"open": 4}) == {**DEFAULT_WEIGHTS, "open": 4.0}
    for bad, words in [
        ({"opens": 1}, "unknown kind(s) opens"),
        ({"open": "2"}, "engagement_weights.open must be a number"),
        ({"open": True}, "must be a number"),
        ({"click": float("nan")}, "must be a number"),
        ({"reply": 5000}, "within -1000..1000"),
        ([1, 2], "must be an object"),
    ]:
        with pytest.raises(WeightsError, match=words.replace("(", r"\(").replace(")", r"\)")):
            validated_weights(bad)
    assert validated_half_life(7) == 7.0
    for bad_half_life in (0, -1, 4000, "7", float("inf")):
        with pytest.raises(WeightsError):
            validated_half_life(bad_half_life)
    assert validated_threshold(70) == 70
    for bad_threshold in (0, 101, 7.5, True):
        with pytest.raises(WeightsError):
            validated_threshold(bad_threshold)


def test_the_score_decays_by_half_each_half_life_and_stays_within_0_and_100() -> None:
    assert decayed(40, 14, 14) == 20
    assert decayed(40, -3, 14) == 40  # after the reference time: in full
    assert score(100.4) == 100 and score(-30) == 0 and score(2.5) == 3 and score(2.49) == 2


def test_the_migrations_default_weights_are_the_python_defaults(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        default = conn.execute(
            sa.text(
                "SELECT column_default FROM information_schema.columns"
                " WHERE table_name = 'hubspot_sync_config' AND column_name = 'engagement_weights'"
            )
        ).scalar_one()
    assert json.loads(default.split("'")[1]) == DEFAULT_WEIGHTS
