"""Reply intent decided when the reply is stored, on PostgreSQL: written on the message with its confidence,
source and rule, and recorded as an `intent_decided` engagement event in the same transaction; ColdCopy's own
judgement (event metadata, lead status) wins; sent messages and decided replies are left alone. The
classifier's accuracy is tested on the labelled set (test_intent_accuracy.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from hubspot_pipeline.db.tables import email_events, email_messages, engagement_events, leads
from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents
from tests.activities.builders import add_lead, add_message


def _reply(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    text: str,
    *,
    metadata: dict | None = None,
    status: str | None = None,
    subject: str = "Re: Quick question",
) -> tuple[uuid.UUID, uuid.UUID]:
    email = f"lead-{uuid.uuid4().hex[:8]}@example.com"
    lead = add_lead(engine, workspace_id, email)
    now = datetime.now(UTC)
    message, _ = add_message(
        engine,
        workspace_id,
        lead,
        email,
        direction="received",
        sent_at=now,
        subject=subject,
        text=text,
        html=None,
    )
    with engine.begin() as conn:
        conn.execute(
            sa.insert(email_events).values(
                workspace_id=workspace_id,
                lead_id=lead,
                event_type="replied",
                occurred_at=now,
                message_id=message,
                metadata=metadata or {},
            )
        )
        if status:
            conn.execute(sa.update(leads).where(leads.c.id == lead).values(status=status))
    return lead, message


def _stored(engine: sa.Engine, message: uuid.UUID) -> sa.Row:
    m = email_messages
    with engine.connect() as conn:
        return conn.execute(
            sa.select(m.c.intent, m.c.intent_confidence, m.c.intent_source, m.c.intent_reason).where(
                m.c.id == message
            )
        ).one()


def _intent_events(engine: sa.Engine, lead: uuid.UUID) -> list[sa.Row]:
    e = engagement_events
    with engine.connect() as conn:
        return conn.execute(
            sa.select(e.c.kind, e.c.intent, e.c.confidence, e.c.message_id).where(e.c.lead_id == lead)
        ).all()


def test_a_stored_reply_gets_its_intent_and_an_event_once(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    lead, message = _reply(engine, workspace_id, "Sounds great, I'm interested. Can we talk on Tuesday?")
    assert decide_all_pending_intents(engine, workspace_id=workspace_id) == 1
    stored = _stored(engine, message)
    assert (stored.intent, stored.intent_source, stored.intent_reason) == (
        "interested",
        "classifier",
        "intent_phrase",
    )
    assert 0.5 < stored.intent_confidence <= 1
    assert _intent_events(engine, lead) == [
        ("intent_decided", "interested", stored.intent_confidence, message)
    ]
    # Decided once: a second pass finds nothing to do and records no second event.
    assert decide_all_pending_intents(engine, workspace_id=workspace_id) == 0
    assert len(_intent_events(engine, lead)) == 1


def test_coldcopys_intent_in_the_event_metadata_wins_over_the_words(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    _, message = _reply(
        engine, workspace_id, "Yes, very interested, send me more!", metadata={"intent": "not_interested"}
    )
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    stored = _stored(engine, message)
    assert (stored.intent, stored.intent_confidence, stored.intent_source) == (
        "not_interested",
        1.0,
        "coldcopy",
    )
    assert stored.intent_reason == "coldcopy_event_intent"


def test_a_lead_status_set_by_a_user_wins_over_the_words(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    _, message = _reply(engine, workspace_id, "Not now, thanks.", status="interested")
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    assert _stored(engine, message)[:3] == ("interested", 1.0, "coldcopy")


def test_auto_reply_headers_recorded_in_the_event_metadata_are_read(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    _, message = _reply(
        engine,
        workspace_id,
        "Thanks for your email.",
        metadata={"headers": {"Auto-Submitted": "auto-replied"}},
    )
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    stored = _stored(engine, message)
    assert (stored.intent, stored.intent_reason) == ("out_of_office", "auto_reply_header")


def test_sent_messages_get_no_intent(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    lead = add_lead(engine, workspace_id, "sent-only@example.com")
    message, _ = add_message(engine, workspace_id, lead, "sent-only@example.com", sent_at=datetime.now(UTC))
    assert decide_all_pending_intents(engine, workspace_id=workspace_id) == 0
    assert _stored(engine, message).intent is None
    assert _intent_events(engine, lead) == []


def _plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


def test_a_backlog_of_replies_is_read_a_batch_at_a_time(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    """The sensor classifies the oldest replies of every workspace a batch at a time. The replied event and
    the lead are looked up for the batch's replies only: at 1,000,000 leads the lookups ran for every one of
    124,069 pending replies before the batch was cut (26 minutes for the first batch of 500)."""
    from hubspot_pipeline.scoring.store.replies import _pending

    for n in range(8):
        _reply(engine, workspace_id, f"Thanks, tell me more about option {n}.")
    query = _pending(None, 3).compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn, conn.begin():
        (plan,) = conn.execute(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}")).scalar_one()
        conn.rollback()
    lookups = [
        node for node in _plan_nodes(plan["Plan"]) if node.get("Relation Name") in {"email_events", "leads"}
    ]
    assert {node["Relation Name"] for node in lookups} == {"email_events", "leads"}
    assert all(node["Actual Loops"] <= 3 for node in lookups), [
        (node["Relation Name"], node["Actual Loops"]) for node in lookups
    ]
