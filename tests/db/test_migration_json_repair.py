"""Migration 0008 on a database that ran issue #9's defects: custom_fields and agreed values encoded twice
are repaired to the objects they stood for, nothing lost, and a value that is not objects throughout is left
as it was. Runs on a database of its own, migrated to 0007, given corrupted rows, then upgraded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db import migrate
from hubspot_pipeline.db.connection import get_engine
from hubspot_pipeline.db.embedded import create_database, drop_database
from tests.databases import on_database

UPDATED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def old_database(database_url: str) -> Iterator[sa.Engine]:
    admin_url = on_database(database_url, "postgres")
    name = f"hp_repair_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    engine = get_engine(on_database(database_url, name))
    try:
        migrate.upgrade("0007", engine=engine)
        yield engine
    finally:
        engine.dispose()
        drop_database(admin_url, name)


def _insert_lead(conn: sa.Connection, workspace_id: str, email: str, custom_fields: str) -> str:
    return conn.execute(
        sa.text(
            "INSERT INTO leads (workspace_id, email, custom_fields, updated_at) "
            "VALUES (:ws, :email, CAST(:custom AS jsonb), :at) RETURNING id::text"
        ),
        {"ws": workspace_id, "email": email, "custom": custom_fields, "at": UPDATED_AT},
    ).scalar_one()


def test_double_encoded_custom_fields_and_agreed_values_are_repaired_and_nothing_is_lost(
    old_database: sa.Engine,
) -> None:
    # Rows as the defects left them (the JSON text PostgreSQL held), written as raw text on purpose.
    with old_database.begin() as conn:
        ws = conn.execute(
            sa.text("INSERT INTO workspaces (name, slug) VALUES ('Old', 'old') RETURNING id::text")
        ).scalar_one()
        pulled_twice = _insert_lead(
            conn,
            ws,
            "twice@example.com",
            '[{"industry": "Media", "seats": 12, "note": "née ✓"}, '
            '"{\\"industry\\": \\"Publishing\\"}", "{\\"industry\\": \\"Books\\", \\"region\\": \\"EU\\"}"]',
        )
        from_empty = _insert_lead(conn, ws, "empty@example.com", '[{}, "{\\"industry\\": \\"Media\\"}"]')
        healthy = _insert_lead(conn, ws, "fine@example.com", '{"industry": "Retail"}')
        hopeless = _insert_lead(conn, ws, "odd@example.com", '[{"industry": "Media"}, "not json"]')
        states = {}
        for label, agreed in {
            "tombstoned": '[{"email": "a@x.com", "jobtitle": "CTO"}, "{\\"_tombstone\\": \\"merged\\"}"]',
            "no_agreed": '["{}", "{\\"_tombstone\\": \\"hubspot_archived\\"}"]',
            "string": '"{\\"email\\": \\"b@x.com\\", \\"_tombstone\\": \\"lead_deleted\\"}"',
            "healthy": '{"email": "c@x.com"}',
            "hopeless": "[1, 2]",
        }.items():
            states[label] = conn.execute(
                sa.text(
                    "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, agreed, status) "
                    "VALUES (:ws, 'contact', :id, CAST(:agreed AS jsonb), 'synced') RETURNING id"
                ),
                {"ws": ws, "id": uuid.uuid4(), "agreed": agreed},
            ).scalar_one()
        outbox_before = conn.execute(sa.text("SELECT max(id) FROM lead_changes")).scalar_one()

    migrate.upgrade(engine=old_database)

    with old_database.connect() as conn:
        custom = dict(conn.execute(sa.text("SELECT id::text, custom_fields FROM leads")).all())
        agreed = dict(conn.execute(sa.text("SELECT id, agreed FROM hubspot_sync_status")).all())
        outbox = conn.execute(
            sa.text(
                "SELECT lead_id::text, operation, changed_fields, changed_at FROM lead_changes WHERE id > :after"
            ),
            {"after": outbox_before},
        ).all()
    assert custom[pulled_twice] == {"industry": "Books", "seats": 12, "note": "née ✓", "region": "EU"}
    assert custom[from_empty] == {"industry": "Media"}
    assert custom[healthy] == {"industry": "Retail"}
    assert custom[hopeless] == [{"industry": "Media"}, "not json"]  # left for a person, never guessed at
    assert agreed[states["tombstoned"]] == {"email": "a@x.com", "jobtitle": "CTO", "_tombstone": "merged"}
    assert agreed[states["no_agreed"]] == {"_tombstone": "hubspot_archived"}
    assert agreed[states["string"]] == {"email": "b@x.com", "_tombstone": "lead_deleted"}
    assert agreed[states["healthy"]] == {"email": "c@x.com"}
    assert agreed[states["hopeless"]] == [1, 2]
    # The repaired keys reach the next sync run, dated when the lead was last written (its last pull).
    assert sorted((r.lead_id, r.operation, r.changed_fields) for r in outbox) == sorted(
        [
            (
                pulled_twice,
                "update",
                [
                    "custom_fields.industry",
                    "custom_fields.note",
                    "custom_fields.region",
                    "custom_fields.seats",
                ],
            ),
            (from_empty, "update", ["custom_fields.industry"]),
        ]
    )
    assert {r.changed_at for r in outbox} == {UPDATED_AT}
