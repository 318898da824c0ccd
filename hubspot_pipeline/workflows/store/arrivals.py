"""What the trigger sensor looks at: which workspaces have new events (by the global cursors), which have
live triggers, and which have executions due (retries, contacts now in HubSpot)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from hubspot_pipeline.db.queues import workspaces_after
from hubspot_pipeline.db.tables import email_events, engagement_events, workspaces
from hubspot_pipeline.db.tables import hubspot_workflow_executions as executions
from hubspot_pipeline.db.tables import hubspot_workflow_triggers as triggers
from hubspot_pipeline.sync.store.workspaces import Workspace


def new_email_events(conn: sa.Connection, after_seq: int, limit: int) -> tuple[dict[uuid.UUID, int], int]:
    """Per workspace, the last seq of its events after `after_seq` (at most `limit` looked at), and the last
    seq looked at."""
    return workspaces_after(conn, email_events.c.seq, after_seq, limit)


def with_live_triggers(conn: sa.Connection, among: Iterable[uuid.UUID] | None = None) -> list[Workspace]:
    """Workspaces with at least one enabled, undeleted trigger (among these ids, if given), by slug."""
    live = (
        sa.select(triggers.c.workspace_id)
        .where(triggers.c.deleted_at.is_(None), triggers.c.enabled.is_(True))
        .distinct()
    )
    query = sa.select(workspaces.c.id, workspaces.c.slug, workspaces.c.name).where(workspaces.c.id.in_(live))
    if among is not None:
        query = query.where(workspaces.c.id.in_(list(among)))
    return [Workspace(r.id, r.slug, r.name) for r in conn.execute(query.order_by(workspaces.c.slug))]


def with_due_executions(conn: sa.Connection, now: datetime) -> list[uuid.UUID]:
    e = executions
    return list(
        conn.execute(
            sa.select(e.c.workspace_id)
            .where(
                e.c.status == "pending",
                sa.or_(e.c.next_attempt_at.is_(None), e.c.next_attempt_at <= now),
                sa.or_(e.c.claimed_until.is_(None), e.c.claimed_until < now),
            )
            .distinct()
        ).scalars()
    )


def new_engagement_events(conn: sa.Connection, after_id: int, limit: int) -> tuple[dict[uuid.UUID, int], int]:
    """As new_email_events, for engagement events by id."""
    return workspaces_after(conn, engagement_events.c.id, after_id, limit)


NEW_EVENTS = {"email_events": new_email_events, "engagement_events": new_engagement_events}
