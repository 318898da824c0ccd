"""The activity retry index: `hubspot_sync_status` rows with `entity_type='activity'` (entity_id: the email
event), like the contact sync's. A failed event keeps the error message and is retried until it succeeds or
has failed MAX_ATTEMPTS times in a row (then it is dead, for a person to look at: `GET /sync/status`).

Each run retries the failures of its own window; failures of other days are retried by any run once
RETRY_AFTER has passed since their last attempt, so a 90-day backfill does not spend a bad event's attempts
in a few minutes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.activities.store.events import ACTIVITY_ENTITY, any_of
from hubspot_pipeline.db.tables import email_events, hubspot_activity_log, hubspot_sync_status

MAX_ATTEMPTS = 8  # as the contact sync's retry index
RETRY_AFTER_SECONDS = 300
RETRIES_PER_RUN = 10_000


def record_failures(conn: sa.Connection, workspace_id: uuid.UUID, failures: Mapping[str, str]) -> None:
    """Events that failed this run, with why: into the retry index (dead after MAX_ATTEMPTS in a row)."""
    if not failures:
        return
    s = hubspot_sync_status
    statement = insert(s).values(
        [
            {
                "workspace_id": workspace_id,
                "entity_type": ACTIVITY_ENTITY,
                "entity_id": uuid.UUID(event_id),
                "status": "error",
                "error_message": message[:2000],
                "attempts": 1,
            }
            for event_id, message in failures.items()
        ]
    )
    excluded = statement.excluded
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[s.c.workspace_id, s.c.entity_type, s.c.entity_id],
            set_={
                "status": "error",
                "error_message": excluded.error_message,
                "attempts": s.c.attempts + 1,
                "dead_at": sa.case((s.c.attempts + 1 >= MAX_ATTEMPTS, sa.func.now()), else_=None),
                "updated_at": sa.func.now(),
            },
        )
    )


def record_successes(conn: sa.Connection, workspace_id: uuid.UUID, objects: Mapping[str, str | None]) -> None:
    """Events logged this run that had failed before: out of the retry index, with the object written."""
    if not objects:
        return
    s = hubspot_sync_status
    ids = [uuid.UUID(i) for i in objects]
    failed = conn.execute(
        sa.select(s.c.entity_id).where(
            s.c.workspace_id == workspace_id, s.c.entity_type == ACTIVITY_ENTITY, any_of(s.c.entity_id, ids)
        )
    ).scalars()
    for event_id in failed:
        conn.execute(
            sa.update(s)
            .where(
                s.c.workspace_id == workspace_id,
                s.c.entity_type == ACTIVITY_ENTITY,
                s.c.entity_id == event_id,
            )
            .values(
                status="synced",
                hubspot_id=objects[str(event_id)],
                error_message=None,
                attempts=0,
                dead_at=None,
                last_synced_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )


def retry_event_ids(conn: sa.Connection, workspace_id: uuid.UUID) -> list[str]:
    """Failed events, of any day, whose last attempt is at least RETRY_AFTER_SECONDS old."""
    s = hubspot_sync_status
    rows = conn.execute(
        sa.select(sa.cast(s.c.entity_id, sa.Text))
        .where(
            s.c.workspace_id == workspace_id,
            s.c.entity_type == ACTIVITY_ENTITY,
            s.c.status == "error",
            s.c.dead_at.is_(None),
            s.c.updated_at <= sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, RETRY_AFTER_SECONDS),
        )
        .order_by(s.c.updated_at)
        .limit(RETRIES_PER_RUN)
    )
    return list(rows.scalars())


def forget_orphans(conn: sa.Connection, workspace_id: uuid.UUID) -> int:
    """Drop retry rows and in-flight rows of events that no longer exist (their lead was deleted)."""
    s, log = hubspot_sync_status, hubspot_activity_log
    gone = conn.execute(
        sa.delete(s).where(
            s.c.workspace_id == workspace_id,
            s.c.entity_type == ACTIVITY_ENTITY,
            ~sa.exists().where(email_events.c.id == s.c.entity_id),
        )
    ).rowcount
    gone += conn.execute(
        sa.delete(log).where(
            log.c.workspace_id == workspace_id, log.c.status == "in_flight", log.c.email_event_id.is_(None)
        )
    ).rowcount
    return gone


def failed_event_ids(conn: sa.Connection, workspace_id: uuid.UUID) -> set[str]:
    """Every event in the retry index (dead ones included): only these need their row cleared on success."""
    s = hubspot_sync_status
    rows = conn.execute(
        sa.select(sa.cast(s.c.entity_id, sa.Text)).where(
            s.c.workspace_id == workspace_id, s.c.entity_type == ACTIVITY_ENTITY, s.c.status == "error"
        )
    )
    return set(rows.scalars())
