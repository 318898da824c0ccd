"""Publishing the dbt model's scores on PostgreSQL: changed rows reach lead_engagement with a lead-outbox row
naming the engagement fields, score_changed and threshold_crossed events (against the enabled triggers'
thresholds), and a second publication writes nothing. The dbt model itself is tested in tests/dbt/."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from hubspot_pipeline.db.tables import engagement_events, hubspot_workflow_triggers, lead_changes
from hubspot_pipeline.scoring.store import dbt_build
from hubspot_pipeline.scoring.store.publish import publish
from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents
from hubspot_pipeline.scoring.weights import decayed, score
from tests.activities.builders import add_event, add_lead, add_message

REFERENCE = date(2026, 7, 1)
MIDNIGHT = datetime(2026, 7, 1, tzinfo=UTC)


def _events(engine: sa.Engine, lead: uuid.UUID) -> list[tuple]:
    e = engagement_events
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(e.c.kind, e.c.old_score, e.c.new_score, e.c.threshold, e.c.direction)
                .where(e.c.lead_id == lead, e.c.kind != "intent_decided")
                .order_by(e.c.id)
            )
        ]


def _outbox(engine: sa.Engine, lead: uuid.UUID) -> list[list[str]]:
    with engine.connect() as conn:
        return [
            sorted(r)
            for r in conn.execute(
                sa.select(lead_changes.c.changed_fields)
                .where(lead_changes.c.lead_id == lead, lead_changes.c.changed_fields.any("engagement.score"))
                .order_by(lead_changes.c.id)
            ).scalars()
        ]


def test_a_changed_score_is_published_once_with_its_events_and_an_outbox_row(
    engine: sa.Engine, database_url: str, workspace_id: uuid.UUID, tmp_path
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_workflow_triggers).values(
                workspace_id=workspace_id, name="Hot leads", event_type="high_engagement", enabled=True,
                conditions=[{"field": "score", "op": "gte", "value": 30}],
            )
        )  # fmt: skip
    email = f"keen-{uuid.uuid4().hex[:6]}@example.com"
    lead = add_lead(engine, workspace_id, email)
    reply, _ = add_message(
        engine,
        workspace_id,
        lead,
        email,
        direction="received",
        sent_at=MIDNIGHT,
        text="Interested!",
        html=None,
    )
    add_event(engine, workspace_id, lead, "opened", MIDNIGHT - timedelta(hours=3))
    add_event(engine, workspace_id, lead, "replied", MIDNIGHT - timedelta(hours=2), message_id=reply)
    decide_all_pending_intents(engine, workspace_id=workspace_id)

    def build_and_publish(reference: date):
        dbt_build.build(
            database_url=database_url,
            workspace_id=workspace_id,
            reference_date=reference,
            target_path=tmp_path,
        )
        with engine.begin() as conn:
            return publish(conn, workspace_id)

    first = build_and_publish(REFERENCE)
    assert (first.changed, first.score_changes, first.crossings) == (1, 1, 1)
    assert _events(engine, lead) == [
        ("score_changed", None, 42, None, None),
        ("threshold_crossed", None, 42, 30, "up"),
    ]
    assert _outbox(engine, lead) == [
        sorted(
            f"engagement.{f}"
            for f in (
                "score",
                "last_engaged_at",
                "last_reply_intent",
                "opens_30d",
                "clicks_30d",
                "replies_30d",
            )
        )
    ]

    again = build_and_publish(REFERENCE)  # the same day: nothing changed, nothing written
    assert (again.changed, again.score_changes, again.crossings) == (0, 0, 0)
    assert len(_events(engine, lead)) == 2 and len(_outbox(engine, lead)) == 1

    later = build_and_publish(REFERENCE + timedelta(days=28))  # two half-lives: 42 -> about 10, below 30
    assert later.score_changes == 1 and later.crossings == 1
    decayed_score = score(decayed(2, 28 + 3 / 24, 14) + decayed(40, 28 + 2 / 24, 14))
    assert decayed_score == 10
    assert _events(engine, lead)[-2:] == [
        ("score_changed", 42, decayed_score, None, None),
        ("threshold_crossed", 42, decayed_score, 30, "down"),
    ]
    assert _outbox(engine, lead)[-1] == ["engagement.score"]  # the events are still within 30 days
