"""The retention purge on PostgreSQL, with the sync against the sandbox: rows past their RETENTION_* age are
purged (processed webhook events and read outbox rows deleted; conflicts' values, message bodies and audit
details cleared), recent ones and what the sync has not read yet are kept, a row a sync holds is skipped,
not waited for, and the sync runs on unaffected. Also `retention_job` in Dagster."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    audit_log,
    email_messages,
    lead_changes,
    leads,
    sync_conflicts,
    webhook_events,
)
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.privacy.retention import RetentionPolicy, purge_expired
from tests.activities.builders import add_lead, add_message
from tests.sync.test_engine_sandbox import sync

POLICY = RetentionPolicy(
    webhook_events=timedelta(days=30),
    outbox=timedelta(days=30),
    conflict_values=timedelta(days=90),
    message_bodies=timedelta(days=365),
    audit_details=timedelta(days=365),
    batch_size=2,  # several batches even for a handful of rows
)
_event_ids = iter(range(uuid.uuid4().int % 10**9 * 1000, 10**13))


def _webhook(conn: sa.Connection, workspace_id: uuid.UUID, *, processed_days_ago: float | None) -> int:
    now = datetime.now(UTC)
    return conn.execute(
        sa.insert(webhook_events)
        .values(
            portal_id=1,
            workspace_id=workspace_id,
            subscription_id=1,
            event_id=next(_event_ids),
            object_id=1,
            occurred_at=0,
            subscription_type="contact.propertyChange",
            property_name="firstname",
            property_value="Old Name",
            payload={"propertyValue": "Old Name"},
            received_at=now - timedelta(days=100),
            processed_at=None if processed_days_ago is None else now - timedelta(days=processed_days_ago),
        )
        .returning(webhook_events.c.id)
    ).scalar_one()


def _conflict(conn: sa.Connection, workspace_id: uuid.UUID, days_ago: float) -> int:
    return conn.execute(
        sa.insert(sync_conflicts)
        .values(
            workspace_id=workspace_id,
            field="title",
            coldcopy_value="CTO",
            hubspot_value="CEO",
            resolved_value="CTO",
            policy="latest",
            winner="coldcopy",
            created_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
        .returning(sync_conflicts.c.id)
    ).scalar_one()


def _audit(conn: sa.Connection, workspace_id: uuid.UUID, days_ago: float) -> int:
    return conn.execute(
        sa.insert(audit_log)
        .values(
            workspace_id=workspace_id,
            actor="test",
            action="config.update",
            details={"changed": {"conflict_policy": "latest"}},
            occurred_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
        .returning(audit_log.c.id)
    ).scalar_one()


def test_rows_past_their_age_are_purged_recent_and_unread_ones_kept_and_the_sync_runs_on(
    engine: sa.Engine, workspace_id: uuid.UUID, hubspot_client: HubSpotClient
) -> None:
    first = add_lead(engine, workspace_id, f"r1.{uuid.uuid4().hex[:6]}@retention.example.com")
    add_lead(engine, workspace_id, f"r2.{uuid.uuid4().hex[:6]}@retention.example.com")
    assert sync(engine, hubspot_client, workspace_id).errors == 0  # the outbox's rows are read
    unread = add_lead(engine, workspace_id, f"r3.{uuid.uuid4().hex[:6]}@retention.example.com")
    now = datetime.now(UTC)
    old_message, _ = add_message(engine, workspace_id, first, "r1@x", sent_at=now - timedelta(days=400))
    new_message, _ = add_message(engine, workspace_id, first, "r1@x", sent_at=now - timedelta(days=10))
    with engine.begin() as conn:
        conn.execute(  # everything in the outbox is old now, read or not
            sa.update(lead_changes)
            .where(lead_changes.c.workspace_id == workspace_id)
            .values(changed_at=now - timedelta(days=40))
        )
        hooks = {
            "old": _webhook(conn, workspace_id, processed_days_ago=40),
            "recent": _webhook(conn, workspace_id, processed_days_ago=5),
            "queued": _webhook(conn, workspace_id, processed_days_ago=None),
            "held": _webhook(conn, workspace_id, processed_days_ago=50),
        }
        conflicts = {"old": _conflict(conn, workspace_id, 100), "recent": _conflict(conn, workspace_id, 10)}
        audits = {"old": _audit(conn, workspace_id, 400), "recent": _audit(conn, workspace_id, 10)}

    # A transaction holding one expired row (as a sync marking events processed would): skipped, not waited for.
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(
                sa.text("SELECT 1 FROM webhook_events WHERE id = :i FOR UPDATE"), {"i": hooks["held"]}
            )
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    progress: list[str] = []
    try:
        report = purge_expired(engine, POLICY, log=progress.append)
    finally:
        release.set()
        holder.join()

    with engine.connect() as conn:
        hook_ids = set(
            conn.execute(
                sa.select(webhook_events.c.id).where(webhook_events.c.workspace_id == workspace_id)
            ).scalars()
        )
        outbox = (
            conn.execute(sa.select(lead_changes.c.lead_id).where(lead_changes.c.workspace_id == workspace_id))
            .scalars()
            .all()
        )
        values = dict(
            conn.execute(
                sa.select(sync_conflicts.c.id, sync_conflicts.c.coldcopy_value).where(
                    sync_conflicts.c.id.in_(conflicts.values())
                )
            ).all()
        )
        bodies = dict(
            conn.execute(
                sa.select(email_messages.c.id, email_messages.c.body_text).where(
                    email_messages.c.id.in_([old_message, new_message])
                )
            ).all()
        )
        details = dict(
            conn.execute(
                sa.select(audit_log.c.id, audit_log.c.details).where(audit_log.c.id.in_(audits.values()))
            ).all()
        )
    assert hook_ids == {hooks["recent"], hooks["queued"], hooks["held"]}
    assert set(outbox) == {unread}  # the read rows went; the one the sync has not read stays
    assert values == {conflicts["old"]: None, conflicts["recent"]: "CTO"}
    assert bodies[old_message] is None and bodies[new_message] is not None
    assert details[audits["old"]] == {} and details[audits["recent"]] != {}
    assert report["webhook_events"] >= 1 and report["lead_changes"] >= 2 and report["sync_conflicts"] >= 1
    assert any("webhook_events" in line and "rows purged so far" in line for line in progress)

    # The held row goes on the next pass; a second pass finds nothing more of ours.
    purge_expired(engine, POLICY)
    with engine.connect() as conn:
        assert hooks["held"] not in set(conn.execute(sa.select(webhook_events.c.id)).scalars())
    # The sync is unaffected: the unread lead is pushed, an edit after the purge too, nothing else.
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0 and report.counts["push_new"] == 1
    with engine.begin() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == first).values(title="Head of Data"))
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0 and report.counts["push"] == 1 and report.counts["push_new"] == 0


def test_a_dry_run_counts_and_changes_nothing(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    with engine.begin() as conn:
        old = _webhook(conn, workspace_id, processed_days_ago=45)
    counted = purge_expired(engine, POLICY, dry_run=True)
    assert counted["webhook_events"] >= 1
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(webhook_events.c.id).where(webhook_events.c.id == old)).scalar_one() == old
        )


def test_the_retention_job_runs_in_dagster(
    engine: sa.Engine, workspace_id: uuid.UUID, database_url: str
) -> None:
    from hubspot_pipeline.defs.privacy.jobs import retention_job
    from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource

    with engine.begin() as conn:
        old = _webhook(conn, workspace_id, processed_days_ago=45)
    result = retention_job.execute_in_process(
        resources={"sync_settings": SyncSettingsResource(database_url=database_url)}
    )
    assert result.success
    with engine.connect() as conn:
        assert conn.execute(sa.select(webhook_events.c.id).where(webhook_events.c.id == old)).first() is None
