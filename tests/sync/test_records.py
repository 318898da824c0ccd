"""What a sync run writes to ColdCopy's side for the leads it pulls (`sync/records.py`), on PostgreSQL: values
pulled from HubSpot in a number of statements that does not grow with the leads, a lead whose new email
another lead holds failing alone and named, new leads created once per email, and none of it echoed into the
lead outbox. The run around these writes is covered by tests/sync/test_engine_*.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.db.tables import lead_changes, leads
from hubspot_pipeline.sync.store import records


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements sent to PostgreSQL meanwhile (savepoints included: each is a round trip)."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _leads(engine: sa.Engine, workspace_id: uuid.UUID, n: int) -> list[str]:
    with engine.begin() as conn:
        return [
            str(i)
            for i in conn.execute(
                sa.insert(leads).returning(leads.c.id),
                [
                    {"workspace_id": workspace_id, "email": f"lead{i}@example.com", "title": "Old"}
                    for i in range(n)
                ],
            ).scalars()
        ]


def _outbox(engine: sa.Engine, workspace_id: uuid.UUID) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).where(lead_changes.c.workspace_id == workspace_id)
        ).scalar_one()


def _row(engine: sa.Engine, lead_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(leads).where(leads.c.id == uuid.UUID(lead_id))).one()


def test_pulled_values_of_many_leads_go_in_a_few_statements_whatever_their_number(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    ids = _leads(engine, workspace_id, 300)
    outbox_before = _outbox(engine, workspace_id)
    updates = [(i, {"title": f"CTO {n}", "custom_fields.tier": "gold"}) for n, i in enumerate(ids)]
    updates[0] = (ids[0], {"first_name": "Ada", "phone": ""})  # another set of columns; "" clears
    with _statements(engine) as sent, engine.begin() as conn, sync_writer(conn):
        assert records.apply_lead_updates(conn, workspace_id, updates) == {}
    # set_config for the writer, then a savepoint, one UPDATE and its release: not one per lead.
    assert len([s for s in sent if s.lstrip().upper().startswith("UPDATE")]) == 1
    assert len(sent) <= 6
    first, last = _row(engine, ids[0]), _row(engine, ids[-1])
    assert (first.first_name, first.phone, first.title, first.custom_fields) == ("Ada", None, "Old", {})
    assert (last.title, last.custom_fields, last.first_name) == ("CTO 299", {"tier": "gold"}, None)
    assert _outbox(engine, workspace_id) == outbox_before  # the sync's own writes are not changes to push


def test_a_lead_whose_new_email_another_lead_holds_fails_alone_named(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    ids = _leads(engine, workspace_id, 4)
    updates = [
        (ids[0], {"email": "LEAD1@example.com", "title": "Taken"}),  # lead1 holds it, whatever the case
        (ids[2], {"email": "moved@example.com"}),
        (ids[3], {"title": "Steady"}),
        (ids[1], {"email": ""}),  # HubSpot clearing an email is not followed
    ]
    with _statements(engine) as sent, engine.begin() as conn, sync_writer(conn):
        errors = records.apply_lead_updates(conn, workspace_id, updates)
    assert set(errors) == {ids[0]}
    assert ids[0] in errors[ids[0]] and "'LEAD1@example.com'" in errors[ids[0]]
    assert "merge the two leads" in errors[ids[0]]
    # One statement for the steady lead, one per email change: the per-row path is for those only.
    assert len([s for s in sent if s.lstrip().upper().startswith("UPDATE")]) == 3
    assert (_row(engine, ids[0]).email, _row(engine, ids[0]).title) == ("lead0@example.com", "Old")
    assert _row(engine, ids[1]).email == "lead1@example.com"
    assert _row(engine, ids[2]).email == "moved@example.com"
    assert _row(engine, ids[3]).title == "Steady"


def test_a_status_coldcopy_does_not_know_fails_that_lead_alone(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    ids = _leads(engine, workspace_id, 2)
    updates = [(ids[0], {"status": "Hot lead", "title": "X"}), (ids[1], {"status": "interested"})]
    with engine.begin() as conn, sync_writer(conn):
        errors = records.apply_lead_updates(conn, workspace_id, updates)
    assert list(errors) == [ids[0]] and "'Hot lead'" in errors[ids[0]] and "interested" in errors[ids[0]]
    assert (_row(engine, ids[0]).status, _row(engine, ids[0]).title) == ("new", "Old")
    assert _row(engine, ids[1]).status == "interested"


def test_a_lead_of_another_workspace_is_never_written(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    (stranger,) = _leads(engine, workspace_id, 1)
    with engine.begin() as conn, sync_writer(conn):
        records.apply_lead_updates(conn, uuid.uuid4(), [(stranger, {"title": "Hijacked"})])
    assert _row(engine, stranger).title == "Old"


def test_new_leads_are_created_in_one_statement_once_per_email(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    _leads(engine, workspace_id, 1)  # lead0@example.com exists
    creates = [(f"new:{n}", {"email": f"fresh{n}@example.com", "first_name": f"F{n}"}) for n in range(200)]
    creates += [
        ("new:dup", {"email": "FRESH0@example.com"}),  # the same email as new:0, another case
        ("new:old", {"email": "lead0@example.com"}),  # a lead has it already
        ("new:none", {"email": "", "first_name": "No email"}),
        ("new:custom", {"email": "custom@example.com", "custom_fields.k": "v", "custom_fields.empty": ""}),
    ]
    with _statements(engine) as sent, engine.begin() as conn, sync_writer(conn):
        created = records.insert_leads(conn, workspace_id, creates)
    assert len([s for s in sent if s.lstrip().upper().startswith("INSERT")]) == 1
    assert set(created) == {f"new:{n}" for n in range(200)} | {"new:custom"}
    assert _row(engine, created["new:7"]).first_name == "F7"
    assert _row(engine, created["new:custom"]).custom_fields == {"k": "v"}
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).where(leads.c.workspace_id == workspace_id)).scalar_one()
            == 1 + 201
        )
