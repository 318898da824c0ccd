"""Appending engagement events: score changes, threshold crossings and decided reply intents.

The workflow-trigger sensor reads `engagement_events` by `id`. Ids must become visible in the order they
were drawn, or a reader whose cursor passed id 11 would never see an id 10 that committed later. Every
insert therefore takes a transaction-scoped advisory lock before drawing ids: a statement trigger on the
table takes it for any writer (migration 0007), and `append_events` takes it first as well, so the wait is
explicit here. The lock is held until the caller's transaction ends: append in the transaction that records
the change the event is about (so the event exists exactly when its cause does), and keep that transaction
short.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import sqlalchemy as sa

from hubspot_pipeline.db.tables import engagement_events

# "HPEE": the same key the table's insert trigger takes (0007_engagement.py).
INSERT_LOCK = 0x48504545

Kind = Literal["score_changed", "threshold_crossed", "intent_decided"]
Direction = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class EngagementEvent:
    workspace_id: uuid.UUID
    lead_id: uuid.UUID
    kind: Kind
    old_score: int | None = None
    new_score: int | None = None
    threshold: int | None = None
    direction: Direction | None = None
    intent: str | None = None
    confidence: float | None = None
    message_id: uuid.UUID | None = None
    occurred_at: dt.datetime | None = None  # None: the transaction's time


def score_changed(workspace_id: uuid.UUID, lead_id: uuid.UUID, old: int | None, new: int) -> EngagementEvent:
    """`old` is None for a lead's first score."""
    return EngagementEvent(workspace_id, lead_id, "score_changed", old_score=old, new_score=new)


def threshold_crossed(
    workspace_id: uuid.UUID, lead_id: uuid.UUID, old: int | None, new: int, threshold: int
) -> EngagementEvent:
    direction: Direction = "up" if new >= threshold else "down"
    return EngagementEvent(
        workspace_id,
        lead_id,
        "threshold_crossed",
        old_score=old,
        new_score=new,
        threshold=threshold,
        direction=direction,
    )


def intent_decided(
    workspace_id: uuid.UUID, lead_id: uuid.UUID, message_id: uuid.UUID, intent: str, confidence: float
) -> EngagementEvent:
    return EngagementEvent(
        workspace_id, lead_id, "intent_decided", intent=intent, confidence=confidence, message_id=message_id
    )


def append_events(conn: sa.Connection, events: Sequence[EngagementEvent]) -> list[int]:
    """Insert `events` in the caller's transaction, in their order; returns their ids (ascending)."""
    if not events:
        return []
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INSERT_LOCK)))
    rows = []
    for event in events:
        row = asdict(event)
        if row["occurred_at"] is None:
            del row["occurred_at"]
        rows.append(row)
    ids: list[int] = []
    # Rows without occurred_at take the column default; the two shapes go in separate statements, in order.
    for start, end in _runs_of_same_shape(rows):
        ids += (
            conn.execute(
                sa.insert(engagement_events).returning(engagement_events.c.id, sort_by_parameter_order=True),
                rows[start:end],
            )
            .scalars()
            .all()
        )
    return ids


def _runs_of_same_shape(rows: list[dict[str, object]]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index].keys() != rows[start].keys():
            runs.append((start, index))
            start = index
    return runs
