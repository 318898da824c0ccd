"""How a workspace's email activity stands, for `GET /sync/status`, the asset checks and the sensor: the
backlog (pending events since the workspace's start, ready or waiting for a contact), what was logged, when,
and what failed. Bounded aggregate queries over indexed columns."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from hubspot_pipeline.activities.store.events import ACTIVITY_ENTITY, Window, contact_join, pending_filter
from hubspot_pipeline.activities.store.settings import activity_settings
from hubspot_pipeline.db.tables import email_events, hubspot_activity_log, hubspot_sync_status


@contextmanager
def hash_joins(conn: sa.Connection) -> Iterator[None]:
    """Counts over a workspace's events join whole sets: hashed, they cost one pass over each side. Right
    after a bulk change, before PostgreSQL has new statistics, it may think a table tiny and loop over it
    once per event instead (minutes for 100,000 events); this rules that plan out for the query."""
    conn.execute(sa.text("SELECT set_config('enable_nestloop', 'off', true)"))
    try:
        yield
    finally:
        conn.execute(sa.text("SELECT set_config('enable_nestloop', 'on', true)"))


@dataclass
class Backlog:
    ready: int = 0  # pending events whose lead has a HubSpot contact
    waiting_for_contact: int = 0
    oldest: datetime | None = None  # the oldest pending event's time


@dataclass
class ActivityStatus:
    enabled: bool
    event_types: list[str]
    content: str
    timeline_fallback: str
    since: datetime | None
    backlog: Backlog
    in_flight: int
    logged: dict[str, int] = field(default_factory=dict)  # by event type
    skipped: int = 0
    last_logged_at: datetime | None = None
    errors: int = 0  # in the retry index
    dead: int = 0  # given up on, for a person


def backlog(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    event_types: Collection[str],
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    window: Window | None = None,
) -> Backlog:
    """Pending events (from `since`, older than `before`, in `window`), split by whether their lead has a
    contact yet."""
    e = email_events
    joined, contact = contact_join()
    conditions = [pending_filter(workspace_id, event_types)]
    if since is not None:
        conditions.append(e.c.occurred_at >= since)
    if before is not None:
        conditions.append(e.c.occurred_at < before)
    if window is not None:
        conditions += [e.c.occurred_at >= window[0], e.c.occurred_at < window[1]]
    query = (
        sa.select(
            sa.func.count().filter(contact.c.hubspot_id.is_not(None)).label("ready"),
            sa.func.count().filter(contact.c.hubspot_id.is_(None)).label("waiting"),
            sa.func.min(e.c.occurred_at).label("oldest"),
        )
        .select_from(joined)
        .where(*conditions)
    )
    with hash_joins(conn):
        row = conn.execute(query).one()
    return Backlog(row.ready, row.waiting, row.oldest)


def pending_days(
    conn: sa.Connection, workspace_id: uuid.UUID, event_types: Collection[str], since: datetime | None
) -> dict[date, int]:
    """UTC day -> pending events whose lead has a contact (what a run of that day would log)."""
    e = email_events
    joined, contact = contact_join()
    day = sa.func.date(sa.func.timezone("UTC", e.c.occurred_at))
    conditions = [pending_filter(workspace_id, event_types), contact.c.hubspot_id.is_not(None)]
    if since is not None:
        conditions.append(e.c.occurred_at >= since)
    query = sa.select(day, sa.func.count()).select_from(joined).where(*conditions).group_by(day)
    with hash_joins(conn):
        return {row[0]: row[1] for row in conn.execute(query)}


def error_counts(
    conn: sa.Connection, workspace_id: uuid.UUID, window: Window | None = None
) -> tuple[int, int]:
    """(events in the retry index, of which dead), of the window's events when one is given."""
    s = hubspot_sync_status
    query = sa.select(
        sa.func.count().filter(s.c.status == "error"),
        sa.func.count().filter(s.c.status == "error", s.c.dead_at.is_not(None)),
    ).where(s.c.workspace_id == workspace_id, s.c.entity_type == ACTIVITY_ENTITY)
    if window is not None:
        query = query.where(
            sa.exists().where(
                email_events.c.id == s.c.entity_id,
                email_events.c.occurred_at >= window[0],
                email_events.c.occurred_at < window[1],
            )
        )
    failed, dead = conn.execute(query).one()
    return failed, dead


def logged_counts(
    conn: sa.Connection, workspace_id: uuid.UUID, window: Window | None = None
) -> tuple[dict[str, int], int, int, datetime | None]:
    """(logged events by type, skipped, in flight, last logged time), of the window's events if given."""
    log = hubspot_activity_log
    query = sa.select(log.c.activity_type, log.c.status, sa.func.count(), sa.func.max(log.c.synced_at)).where(
        log.c.workspace_id == workspace_id
    )
    if window is not None:
        query = query.where(log.c.occurred_at >= window[0], log.c.occurred_at < window[1])
    logged: dict[str, int] = {}
    skipped = in_flight = 0
    last: datetime | None = None
    for kind, status, count, latest in conn.execute(query.group_by(log.c.activity_type, log.c.status)):
        if status == "logged":
            logged[kind] = count
            last = max(filter(None, (last, latest)), default=None)
        elif status == "skipped":
            skipped += count
        else:
            in_flight += count
    return logged, skipped, in_flight, last


def activity_status(conn: sa.Connection, workspace_id: uuid.UUID) -> ActivityStatus:
    settings = activity_settings(conn, workspace_id)
    types = sorted(settings.event_types)
    logged, skipped, in_flight, last = logged_counts(conn, workspace_id)
    failed, dead = error_counts(conn, workspace_id)
    return ActivityStatus(
        enabled=settings.enabled,
        event_types=types,
        content=settings.content,
        timeline_fallback=settings.timeline_fallback,
        since=settings.since,
        backlog=backlog(conn, workspace_id, types, since=settings.since),
        in_flight=in_flight,
        logged=logged,
        skipped=skipped,
        last_logged_at=last,
        errors=failed - dead,
        dead=dead,
    )


@dataclass
class WindowHealth:
    """What a batch's checks read for its window: events not logged an hour after they happened (waiting
    for a contact counted apart), and the events that failed against those that reached HubSpot."""

    stale: Backlog
    logged: int
    failed: int
    dead: int

    @property
    def error_rate(self) -> float:
        return self.failed / (self.logged + self.failed) if self.logged + self.failed else 0.0


def window_health(
    conn: sa.Connection, workspace_id: uuid.UUID, window: Window, now: datetime
) -> WindowHealth:
    settings = activity_settings(conn, workspace_id)
    stale = backlog(
        conn, workspace_id, sorted(settings.event_types), before=now - timedelta(hours=1), window=window
    )
    logged, _, _, _ = logged_counts(conn, workspace_id, window)
    failed, dead = error_counts(conn, workspace_id, window)
    return WindowHealth(stale, sum(logged.values()), failed, dead)
