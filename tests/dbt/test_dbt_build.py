"""The dbt project on the test database (embedded, or DATABASE_URL's server): `dbt build` runs every model
and every dbt test (unique, not_null, accepted_values, relationships, ranges); the score equals the formula
computed in Python (scoring.weights) for the workspace's own weights; a second build the same day changes
nothing; a new event changes only its lead, incrementally; the next day decays every score.

Each test builds one workspace of its own (the `workspace_id` var), at a fixed reference day."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_config
from hubspot_pipeline.scoring.store import dbt_build
from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents
from hubspot_pipeline.scoring.weights import DEFAULT_HALF_LIFE_DAYS, DEFAULT_WEIGHTS, decayed, score
from tests.activities.builders import add_event, add_lead, add_message

REFERENCE = date(2026, 6, 15)
MIDNIGHT = datetime(2026, 6, 15, tzinfo=UTC)


@pytest.fixture
def build(database_url: str, workspace_id: uuid.UUID, tmp_path: Path):
    def run(reference: date = REFERENCE, source_checks: bool = False) -> str:
        return dbt_build.build(
            database_url=database_url,
            workspace_id=workspace_id,
            reference_date=reference,
            target_path=tmp_path,
            source_checks=source_checks,
        )

    return run


def _scores(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[uuid.UUID, sa.RowMapping]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT * FROM engagement.lead_engagement_scores WHERE workspace_id = :w"),
            {"w": workspace_id},
        ).mappings()
        return {row["lead_id"]: row for row in rows}


def _lead_with_reply(engine, workspace_id, text: str, at: datetime) -> uuid.UUID:
    email = f"lead-{uuid.uuid4().hex[:8]}@example.com"
    lead = add_lead(engine, workspace_id, email)
    sent, _ = add_message(engine, workspace_id, lead, email, sent_at=at - timedelta(hours=2))
    reply, _ = add_message(
        engine, workspace_id, lead, email, direction="received", sent_at=at, text=text, html=None
    )
    add_event(engine, workspace_id, lead, "sent", at - timedelta(hours=2), message_id=sent)
    add_event(engine, workspace_id, lead, "opened", at - timedelta(hours=1), message_id=sent)
    add_event(engine, workspace_id, lead, "replied", at, message_id=reply)
    return lead


def test_dbt_build_passes_its_tests_and_the_score_is_the_formula(
    engine: sa.Engine, workspace_id: uuid.UUID, build
) -> None:
    with engine.begin() as conn:  # the workspace's own weights win; unset ones are the defaults
        conn.execute(
            sa.insert(hubspot_sync_config).values(
                workspace_id=workspace_id,
                engagement_weights={"open": 4, "positive_reply": 50},
                engagement_half_life_days=7,
            )
        )
    keen = _lead_with_reply(
        engine, workspace_id, "Yes, I'm interested! Let's talk Tuesday.", MIDNIGHT - timedelta(days=3)
    )
    cold = _lead_with_reply(engine, workspace_id, "Not interested, thanks.", MIDNIGHT - timedelta(days=20))
    bounced = add_lead(engine, workspace_id, f"gone-{uuid.uuid4().hex[:6]}@example.com")
    add_event(engine, workspace_id, bounced, "bounced", MIDNIGHT - timedelta(days=1))
    assert decide_all_pending_intents(engine, workspace_id=workspace_id) == 2

    output = build(source_checks=True)  # every dbt test, the staging views' included
    assert "Completed successfully" in output and " PASS=" in output and "ERROR=0" in output
    assert "not_null_stg_email_events_event_id" in output
    assert "not_null_stg_email_events_event_id" not in build()  # a scheduled build leaves them out

    scores = _scores(engine, workspace_id)
    days = 3 + 1 / 24  # the open, an hour before the reply, at the reference time (UTC midnight)
    expected_keen = score(decayed(4, days, 7) + decayed(50, 3, 7))
    assert scores[keen]["score"] == expected_keen > 0
    assert scores[keen]["last_reply_intent"] == "interested"
    assert (scores[keen]["opens_7d"], scores[keen]["replies_7d"], scores[keen]["sends_30d"]) == (1, 1, 1)
    assert scores[keen]["last_engaged_at"] == MIDNIGHT - timedelta(days=3)
    expected_cold = score(decayed(4, 20 + 1 / 24, 7) + decayed(DEFAULT_WEIGHTS["reply"], 20, 7))
    assert scores[cold]["score"] == expected_cold
    assert scores[cold]["last_reply_intent"] == "not_interested"
    assert (scores[cold]["replies_7d"], scores[cold]["replies_30d"]) == (0, 1)
    assert scores[bounced]["score"] == 0  # negative points stop at 0
    assert scores[bounced]["last_engaged_at"] is None and scores[bounced]["bounces_7d"] == 1

    with engine.connect() as conn:
        daily = conn.execute(
            sa.text(
                "SELECT day, opens, replies, interested_replies, leads_engaged FROM engagement.workspace_daily_engagement"
                " WHERE workspace_id = :w ORDER BY day"
            ),
            {"w": workspace_id},
        ).all()
    assert daily[-3:] == [  # the open at 23:00 the day before the reply; then the reply; then the bounce
        ((MIDNIGHT - timedelta(days=4)).date(), 1, 0, 0, 1),
        ((MIDNIGHT - timedelta(days=3)).date(), 0, 1, 1, 1),
        ((MIDNIGHT - timedelta(days=1)).date(), 0, 0, 0, 0),
    ]


def test_a_second_build_the_same_day_changes_nothing_and_a_new_event_changes_only_its_lead(
    engine: sa.Engine, workspace_id: uuid.UUID, build
) -> None:
    first = _lead_with_reply(engine, workspace_id, "Sounds good, send details.", MIDNIGHT - timedelta(days=2))
    second = _lead_with_reply(engine, workspace_id, "Sure, interested.", MIDNIGHT - timedelta(days=5))
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    build()
    before = _scores(engine, workspace_id)

    build()  # same day, nothing new: not one row rewritten
    assert _scores(engine, workspace_id) == before

    add_event(engine, workspace_id, second, "clicked", MIDNIGHT - timedelta(hours=1))
    build()
    after = _scores(engine, workspace_id)
    assert after[first] == before[first]  # untouched, built_at included
    assert after[second]["clicks_7d"] == 1
    assert after[second]["score"] == min(100, before[second]["score"] + DEFAULT_WEIGHTS["click"]) or after[
        second
    ]["score"] == score(
        float(before[second]["raw_points"])
        + decayed(DEFAULT_WEIGHTS["click"], 1 / 24, DEFAULT_HALF_LIFE_DAYS)
    )
    assert after[second]["built_at"] > before[second]["built_at"]


def test_the_next_days_build_decays_every_lead(engine: sa.Engine, workspace_id: uuid.UUID, build) -> None:
    lead = _lead_with_reply(engine, workspace_id, "Yes please, interested.", MIDNIGHT - timedelta(days=1))
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    build()
    today = _scores(engine, workspace_id)[lead]
    build(REFERENCE + timedelta(days=30))
    later = _scores(engine, workspace_id)[lead]
    assert later["reference_date"] == REFERENCE + timedelta(days=30)
    assert later["score"] < today["score"]
    assert (later["replies_7d"], later["replies_30d"], later["replies_90d"]) == (0, 0, 1)


def test_a_deleted_lead_leaves_the_model(engine: sa.Engine, workspace_id: uuid.UUID, build) -> None:
    lead = _lead_with_reply(engine, workspace_id, "Interested.", MIDNIGHT - timedelta(days=1))
    build()
    assert lead in _scores(engine, workspace_id)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE leads SET deleted_at = now() WHERE id = :id"), {"id": lead})
    build()
    assert lead not in _scores(engine, workspace_id)


def _rows_read(engine: sa.Engine, table: str = "email_events") -> int:
    """Rows PostgreSQL has read from `table` so far (sequential and by index). A backend reports what it read
    at the end of a transaction at most once a second, and when it exits: the pool's connections are closed
    and the other backends of the database (dbt's, this test's) waited for, up to 30 s, before reading."""
    engine.dispose()
    with engine.connect() as conn:
        for _ in range(300):
            others = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            ).scalar_one()
            if not others:
                break
            time.sleep(0.1)
        conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        return int(
            conn.execute(
                sa.text(
                    "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
                    "WHERE relname = :table"
                ),
                {"table": table},
            ).scalar_one()
        )


def test_an_incremental_build_reads_only_the_changed_leads_events(
    engine: sa.Engine, workspace_id: uuid.UUID, build
) -> None:
    # 200 leads with 10 events each on the five days before; then one lead gets a click. The same day's
    # build must read that lead's events, the new ones past the high-water mark and the click's day (the
    # daily model), not the workspace's 2,000.
    with engine.begin() as conn:
        leads = (
            conn.execute(
                sa.text(
                    "INSERT INTO leads (workspace_id, email) SELECT :w, 'many' || n || '@example.com' "
                    "FROM generate_series(1, 200) AS n RETURNING id"
                ),
                {"w": workspace_id},
            )
            .scalars()
            .all()
        )
        conn.execute(
            sa.text(
                "INSERT INTO email_events (id, workspace_id, lead_id, event_type, occurred_at) "
                "SELECT gen_random_uuid(), :w, l, t, :at - (n || ' days 1 hour')::interval "
                "FROM unnest(CAST(:leads AS uuid[])) AS l, generate_series(1, 5) AS n, "
                "(VALUES ('sent'), ('opened')) AS k(t)"
            ),
            {"w": workspace_id, "leads": [str(i) for i in leads], "at": MIDNIGHT},
        )
        conn.execute(sa.text("ANALYZE email_events"))
    build()
    add_event(engine, workspace_id, leads[7], "clicked", MIDNIGHT - timedelta(minutes=5))
    before = _rows_read(engine)
    build()
    read = _rows_read(engine) - before
    assert _scores(engine, workspace_id)[leads[7]]["clicks_7d"] == 1
    assert read <= 60, f"the incremental build read {read} rows of email_events for one changed lead"


def test_a_same_day_build_takes_the_last_reply_decided_since(
    engine: sa.Engine, workspace_id: uuid.UUID, build
) -> None:
    # The same-day build reads each changed lead's last reply by the lead index (lateral): a reply decided
    # after the first build makes its lead changed, and the later of its two replies gives the intent.
    lead = _lead_with_reply(engine, workspace_id, "Not interested, thanks.", MIDNIGHT - timedelta(days=3))
    other = _lead_with_reply(
        engine, workspace_id, "Yes, I'm interested! Let's talk Tuesday.", MIDNIGHT - timedelta(days=4)
    )
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    build()
    assert _scores(engine, workspace_id)[lead]["last_reply_intent"] == "not_interested"
    add_message(
        engine, workspace_id, lead, "again@example.com", direction="received", sent_at=MIDNIGHT - timedelta(days=1),
        text="Yes, I'm interested! Let's talk Tuesday.", html=None,
    )  # fmt: skip
    assert decide_all_pending_intents(engine, workspace_id=workspace_id) == 1
    build()
    scores = _scores(engine, workspace_id)
    assert scores[lead]["last_reply_intent"] == "interested"
    assert scores[lead]["last_replied_at"] == MIDNIGHT - timedelta(days=1)
    assert scores[other]["last_reply_intent"] == "interested"
    assert len(scores) == 2


def test_a_same_day_build_finds_the_replies_decided_since_without_reading_the_others(
    engine: sa.Engine, workspace_id: uuid.UUID, build
) -> None:
    # 2,000 replies decided before the first build. The next build the same day looks for replies decided
    # since it: by index, not by reading every reply of the workspace (at 1,000,000 leads, 2,000,000
    # messages: most of the 45 s a build with nothing new spent in its models).
    with engine.begin() as conn:
        lead = conn.execute(
            sa.text(
                "INSERT INTO leads (workspace_id, email) VALUES (:w, 'replies@example.com') RETURNING id"
            ),
            {"w": workspace_id},
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO email_messages (workspace_id, lead_id, direction, message_id_header, from_address, "
                "to_address, sent_at, intent, intent_confidence, intent_source, intent_classified_at) "
                "SELECT :w, :lead, 'received', '<' || n || '@replies.example.com>', 'replies@example.com', "
                "'sender@example.com', :at - (n || ' minutes')::interval, 'neutral', 0.5, 'classifier', "
                ":at - (n || ' minutes')::interval FROM generate_series(1, 2000) AS n"
            ),
            {"w": workspace_id, "lead": lead, "at": MIDNIGHT - timedelta(days=1)},
        )
        conn.execute(sa.text("ANALYZE email_messages"))
    scored = _lead_with_reply(engine, workspace_id, "Thanks, not now.", MIDNIGHT - timedelta(days=2))
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    build()
    assert scored in _scores(engine, workspace_id)
    before = _rows_read(engine, "email_messages")
    build()
    read = _rows_read(engine, "email_messages") - before
    assert read <= 50, f"a build with nothing new read {read} rows of email_messages"
