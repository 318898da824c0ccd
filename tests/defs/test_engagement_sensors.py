"""The engagement scoring's Dagster triggers, evaluated as the daemon does (build_sensor_context /
build_schedule_context on a real instance, the project's database): `reply_intents_sensor` decides the intent
of each stored reply in its tick, once, with an intent_decided event, and launches no run;
`engagement_daily_schedule` asks for one engagement run per workspace partition a day, with run keys that
make a second evaluation of the same tick launch nothing twice. The dbt build itself is tests/dbt/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.db.tables import email_messages, engagement_events
from hubspot_pipeline.defs.engagement.sensors import reply_intents_sensor
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE
from tests.activities.builders import add_lead, add_message


def _intents(engine: sa.Engine, messages: list[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(email_messages.c.id, email_messages.c.intent).where(email_messages.c.id.in_(messages))
        )
        return {row.id: row.intent for row in rows}


def _decided_events(engine: sa.Engine, workspace_id: uuid.UUID) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(engagement_events.c.intent)
                .where(
                    engagement_events.c.workspace_id == workspace_id,
                    engagement_events.c.kind == "intent_decided",
                )
                .order_by(engagement_events.c.id)
            ).scalars()
        )


def _tick(instance: dg.DagsterInstance, resources: dict) -> dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance, resources={"sync_settings": resources["sync_settings"]}
    )
    result = reply_intents_sensor(context)
    assert isinstance(result, dg.SkipReason)  # it acts in the tick and never launches a run
    return result


def test_the_reply_intents_sensor_decides_each_stored_reply_once_in_its_tick(
    engine: sa.Engine, workspace_id: uuid.UUID, resources: dict
) -> None:
    email = f"replier-{uuid.uuid4().hex[:6]}@example.com"
    lead = add_lead(engine, workspace_id, email)
    sent_at = datetime(2026, 11, 28, 9, tzinfo=UTC)
    replies = [
        add_message(
            engine, workspace_id, lead, email, direction="received", sent_at=sent_at, text=text, html=None
        )[0]
        for text in (
            "Yes, I'm interested - let's set up a call next week.",
            "Please remove me from your list.",
        )
    ]
    with dg.instance_for_test() as instance:
        first = _tick(instance, resources)
        assert first.skip_message is not None and first.skip_message.startswith("decided the intent of ")
        assert int(first.skip_message.split()[4]) >= 2
        assert _intents(engine, replies) == {
            replies[0]: "interested",
            replies[1]: "unsubscribe_request",
        }
        # One event per reply (the two were received at the same time: in either order).
        assert sorted(_decided_events(engine, workspace_id)) == ["interested", "unsubscribe_request"]

        again = _tick(instance, resources)  # nothing left: no second decision, no second event
        assert again.skip_message == "no reply waiting for its intent"
        assert sorted(_decided_events(engine, workspace_id)) == ["interested", "unsubscribe_request"]


def test_the_daily_schedule_asks_one_run_per_workspace_a_day_keyed_by_the_day() -> None:
    from hubspot_pipeline.engagement_location.definitions import engagement_daily_schedule

    tick = datetime(2026, 11, 29, 0, 15, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        assert (
            list(
                engagement_daily_schedule(dg.build_schedule_context(instance, scheduled_execution_time=tick))
            )
            == []
        )
        instance.add_dynamic_partitions(WORKSPACE, ["acme", "globex"])
        requests = list(
            engagement_daily_schedule(dg.build_schedule_context(instance, scheduled_execution_time=tick))
        )
        assert [(r.partition_key, r.run_key) for r in requests] == [
            ("acme", "engagement:acme:2026-11-29"),
            ("globex", "engagement:globex:2026-11-29"),
        ]
        # The same tick evaluated twice asks the same run keys (Dagster launches each once); the next day new ones.
        twice = list(
            engagement_daily_schedule(dg.build_schedule_context(instance, scheduled_execution_time=tick))
        )
        assert [r.run_key for r in twice] == [r.run_key for r in requests]
        next_day = tick.replace(day=30)
        later = list(
            engagement_daily_schedule(dg.build_schedule_context(instance, scheduled_execution_time=next_day))
        )
        assert [r.run_key for r in later] == ["engagement:acme:2026-11-30", "engagement:globex:2026-11-30"]
