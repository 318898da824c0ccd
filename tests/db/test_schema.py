"""The schema: migrations up and down, the seed's CHECK constraints, the lead outbox trigger, and that the
SQLAlchemy table definitions match what the migrations create."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hubspot_pipeline.db import migrate
from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING, get_engine, sync_writer
from hubspot_pipeline.db.embedded import create_database, drop_database
from hubspot_pipeline.db.tables import (
    hubspot_field_mappings,
    hubspot_sync_status,
    lead_changes,
    leads,
    metadata,
    workspaces,
)
from tests.databases import on_database

IGNORED_DIFFERENCES = {"add_index", "remove_index", "remove_table_comment", "modify_comment"}
VERSION_TABLE = "hubspot_pipeline_alembic_version"


def _table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


# The newest migration file's number: renumbering a migration on a rebase needs no edit here.
HEAD = max(p.name[:4] for p in (Path(migrate.__file__).parent / "migrations" / "versions").glob("[0-9]*.py"))


def test_migrations_upgrade_and_downgrade_cleanly(database_url: str) -> None:
    # A database of its own, so that dropping everything does not disturb the other tests.
    admin_url = on_database(database_url, "postgres")
    name = f"hp_migrations_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    engine = get_engine(on_database(database_url, name))
    try:
        migrate.upgrade(engine=engine)
        assert migrate.current_revision(engine) == HEAD
        assert {"leads", "hubspot_integrations", "webhook_events", "lead_changes"} <= _table_names(engine)
        migrate.downgrade("base", engine=engine)
        assert migrate.current_revision(engine) is None
        assert _table_names(engine) <= {"hubspot_pipeline_alembic_version"}
        migrate.upgrade(engine=engine)  # and back up again, from nothing
        assert migrate.current_revision(engine) == HEAD
    finally:
        engine.dispose()
        drop_database(admin_url, name)


def test_table_definitions_match_the_migrations(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": False})
        differences = [
            diff
            for group in compare_metadata(context, metadata)
            for diff in (group if isinstance(group, list) else [group])
            # Alembic does not see functional/partial index expressions the same way on both sides, and
            # table comments live in the migrations only.
            if not (isinstance(diff, tuple) and diff[0] in IGNORED_DIFFERENCES)
            and not (isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == VERSION_TABLE)
        ]
    assert differences == []


def test_a_row_breaking_a_seed_check_constraint_is_refused(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    with (
        pytest.raises(sa.exc.IntegrityError, match="hubspot_field_mappings_direction_check"),
        engine.begin() as conn,
    ):
        conn.execute(
            sa.insert(hubspot_field_mappings).values(
                workspace_id=workspace_id,
                coldcopy_field="email",
                hubspot_property="email",
                direction="sideways",
            )
        )
    with (
        pytest.raises(sa.exc.IntegrityError, match="hubspot_sync_status_status_check"),
        engine.begin() as conn,
    ):
        conn.execute(
            sa.insert(hubspot_sync_status).values(
                workspace_id=workspace_id, entity_type="contact", entity_id=uuid.uuid4(), status="maybe"
            )
        )


def _changes(conn: sa.Connection, lead_id: uuid.UUID) -> list[tuple[str, list[str] | None]]:
    rows = conn.execute(
        sa.select(lead_changes.c.operation, lead_changes.c.changed_fields)
        .where(lead_changes.c.lead_id == lead_id)
        .order_by(lead_changes.c.id)
    )
    return [(row.operation, row.changed_fields) for row in rows]


def test_the_outbox_records_ordinary_writes_and_ignores_the_syncs_own(
    engine: sa.Engine, workspace_id
) -> None:
    with engine.begin() as conn:
        lead_id = conn.execute(
            sa.insert(leads)
            .values(
                workspace_id=workspace_id,
                email="ada@example.com",
                first_name="Ada",
                custom_fields={"tier": "a"},
            )
            .returning(leads.c.id)
        ).scalar_one()
    with engine.begin() as conn:
        conn.execute(
            sa.update(leads)
            .where(leads.c.id == lead_id)
            .values(title="CTO", custom_fields={"tier": "b", "source": "web"})
        )
    with engine.begin() as conn, sync_writer(conn):
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(first_name="Augusta"))
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config(:k, :v, true)"), {"k": WRITER_SETTING, "v": BULK_LOAD_WRITER})
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(phone="+1 555"))
    with engine.begin() as conn:
        # An update that changes nothing is not a change.
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(title="CTO"))
        assert _changes(conn, lead_id) == [
            ("insert", None),
            ("update", ["custom_fields.source", "custom_fields.tier", "title"]),
        ]
    with engine.begin() as conn:
        conn.execute(sa.delete(leads).where(leads.c.id == lead_id))
        assert _changes(conn, lead_id)[-1] == ("delete", None)


def test_the_outbox_is_indexed_by_lead(engine: sa.Engine) -> None:
    # The sync reads a lead's outbox rows by lead id (store.newest_field_times dates the fields of every pair
    # in conflict under `latest` from all of them): without an index led by lead_id, each such run read the
    # whole outbox.
    with engine.connect() as conn:
        leading = conn.execute(
            sa.text(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                "WHERE i.indrelid = 'lead_changes'::regclass"
            )
        ).scalars()
        assert "lead_id" in set(leading)
    with engine.begin() as conn:  # a handful of rows: tell the planner a scan of them all is out
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = conn.execute(
            sa.text("EXPLAIN SELECT changed_at FROM lead_changes WHERE lead_id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [str(uuid.uuid4())]},
        ).scalars()
        text = "\n".join(plan)
    assert "lead_changes_lead_idx" in text, text


def test_the_sync_setting_lasts_only_for_its_transaction(engine: sa.Engine, workspace_id) -> None:
    with engine.begin() as conn, sync_writer(conn):
        lead_id = conn.execute(
            sa.insert(leads)
            .values(workspace_id=workspace_id, email="grace@example.com")
            .returning(leads.c.id)
        ).scalar_one()
    with engine.begin() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(first_name="Grace"))
        assert _changes(conn, lead_id) == [("update", ["first_name"])]


def test_email_is_unique_per_workspace_whatever_its_case(engine: sa.Engine, workspace_id) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(leads).values(workspace_id=workspace_id, email="Linus@Example.com"))
    with pytest.raises(sa.exc.IntegrityError, match="leads_workspace_email_key"), engine.begin() as conn:
        conn.execute(sa.insert(leads).values(workspace_id=workspace_id, email="linus@example.com"))


def test_a_workspace_slug_is_a_valid_partition_key_and_never_changes(engine: sa.Engine, workspace_id) -> None:
    # Regression: slugs name Dagster partitions; `|` and `,` break multi-partition keys and UI backfills,
    # and a renamed slug would orphan the workspace's partition and run history.
    for bad in ("a|b", "a,b", "[a]", "a...b", "", "tab\there"):
        with (
            pytest.raises(sa.exc.IntegrityError, match="workspaces_slug_partition_key_check"),
            engine.begin() as conn,
        ):
            conn.execute(sa.insert(workspaces).values(name="Bad", slug=bad))
    with pytest.raises(sa.exc.IntegrityError, match="cannot change"), engine.begin() as conn:
        conn.execute(sa.update(workspaces).where(workspaces.c.id == workspace_id).values(slug="renamed"))
    with engine.begin() as conn:  # other columns still change
        conn.execute(sa.update(workspaces).where(workspaces.c.id == workspace_id).values(name="Renamed"))


def test_a_workspace_s_events_after_its_cursor_are_read_by_the_workspace_seq_index(
    engine: sa.Engine, workspace_id
) -> None:
    # A trigger run reads its workspace's events after its cursor (workflows/store/events.email_events_after);
    # the global seq index alone walks every other workspace's events to find them. Seq scans are switched
    # off so the plan shows what the indexes allow, whatever the table's size.
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                sa.text(
                    "EXPLAIN SELECT * FROM email_events WHERE seq > :after AND workspace_id = :w "
                    "ORDER BY seq LIMIT 100"
                ),
                {"after": 0, "w": workspace_id},
            ).scalars()
        )
    assert "email_events_workspace_seq_idx" in plan and "Sort" not in plan, plan


def test_processes_creating_the_same_database_at_once_all_find_it_made(database_url: str) -> None:
    # Two processes starting the embedded server at once (the API and the daemon of `make dev`, two test
    # workers) both find the project database missing; the one that loses CREATE DATABASE must not fail.
    from concurrent.futures import ThreadPoolExecutor

    admin_url = on_database(database_url, "postgres")
    names = [f"hp_race_{uuid.uuid4().hex[:8]}" for _ in range(5)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for name in names:  # each call's exception, if any, is raised by list()
                list(pool.map(create_database, [admin_url] * 4, [name] * 4))
        engine = get_engine(admin_url)
        with engine.connect() as conn:
            made = conn.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = ANY(:n)"), {"n": names}
            )
            assert made.scalar_one() == len(names)
    finally:
        for name in names:
            drop_database(admin_url, name)
