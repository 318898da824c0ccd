"""Engagement events on PostgreSQL: appended in order with ascending ids, an inserting transaction waits for
the previous one (so a reader by id never skips a late commit), each kind's fields are enforced, and a
deleted lead takes its events with it. The scores and intents that produce events are tested elsewhere."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import engagement_events, leads
from hubspot_pipeline.scoring.store.events import (
    append_events,
    intent_decided,
    score_changed,
    threshold_crossed,
)
from tests.activities.builders import add_lead, add_message


def _events_of(engine: sa.Engine, lead_id: uuid.UUID) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(engagement_events).where(engagement_events.c.lead_id == lead_id).order_by("id")
        ).all()


def test_events_are_appended_in_order_with_ascending_ids(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    from datetime import UTC, datetime

    lead = add_lead(engine, workspace_id, "ada@analytical.example.com")
    message, _ = add_message(
        engine,
        workspace_id,
        lead,
        "ada@analytical.example.com",
        direction="received",
        sent_at=datetime.now(UTC),
    )
    with engine.begin() as conn:
        ids = append_events(
            conn,
            [
                intent_decided(workspace_id, lead, message, "interested", 0.9),
                score_changed(workspace_id, lead, None, 55),
                threshold_crossed(workspace_id, lead, 55, 72, 60),
            ],
        )
    assert ids == sorted(ids) and len(set(ids)) == 3
    rows = _events_of(engine, lead)
    assert [row.id for row in rows] == ids
    assert [row.kind for row in rows] == ["intent_decided", "score_changed", "threshold_crossed"]
    assert (rows[0].intent, rows[0].confidence, rows[0].message_id) == ("interested", 0.9, message)
    assert (rows[1].old_score, rows[1].new_score) == (None, 55)
    assert (rows[2].threshold, rows[2].direction) == (60, "up")
    assert all(row.occurred_at is not None for row in rows)


def test_appending_nothing_takes_no_lock_and_returns_no_id(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert append_events(conn, []) == []


def test_a_second_inserting_transaction_waits_for_the_first_even_a_raw_insert(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    # Regression guard for the cursor: if the second insert could draw an id while the first transaction is
    # open, it could commit first and a reader past its id would never see the first one's.
    lead = add_lead(engine, workspace_id, "bea@analytical.example.com")
    with engine.connect() as first, engine.connect() as second:
        first_tx = first.begin()
        append_events(first, [score_changed(workspace_id, lead, None, 10)])
        with second.begin():
            second.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                # Not through append_events: the table's own trigger takes the lock.
                second.execute(
                    sa.insert(engagement_events).values(
                        workspace_id=workspace_id, lead_id=lead, kind="score_changed", new_score=20
                    )
                )
        first_tx.commit()
    assert [row.new_score for row in _events_of(engine, lead)] == [10]


def test_an_event_missing_its_kinds_fields_is_refused(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    lead = add_lead(engine, workspace_id, "cy@analytical.example.com")
    bad_rows = [
        {"kind": "threshold_crossed", "new_score": 70},  # no threshold, no direction
        {"kind": "intent_decided", "intent": "interested"},  # no confidence
        {"kind": "score_changed", "new_score": 101},  # out of range
        {"kind": "intent_decided", "intent": "maybe", "confidence": 0.5},  # not an intent
        {"kind": "opened", "new_score": 5},  # not a kind
    ]
    for values in bad_rows:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.insert(engagement_events).values(workspace_id=workspace_id, lead_id=lead, **values)
            )
    assert _events_of(engine, lead) == []


def test_deleting_a_lead_deletes_its_events(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    lead = add_lead(engine, workspace_id, "dee@analytical.example.com")
    with engine.begin() as conn:
        append_events(conn, [score_changed(workspace_id, lead, None, 30)])
    with engine.begin() as conn:
        conn.execute(sa.delete(leads).where(leads.c.id == lead))
    assert _events_of(engine, lead) == []
