"""The alerts table: what the rules found, de-duplicated by key, and who is due a notification.

    changes = reconcile(conn, firing, now)     # open new keys, keep open ones seen again, resolve the rest
    firing, reminders, resolved = due(conn, now, thresholds)
    mark_notified(conn, [...], now) / mark_resolved_notified(conn, [...], now)

One row per key stays open (`status = 'firing'`) while its rule keeps finding it: `last_seen_at` and its
details follow the latest evaluation, `first_seen_at` stays. Once the rule stops finding it the row is
resolved and kept as history; if it comes back later, a new row opens. An alert is notified when it opens,
reminded every `renotify_minutes` up to `max_notifications` messages in all, and its resolution is notified
once if it was notified at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from hubspot_pipeline.db.tables import alerts
from hubspot_pipeline.monitoring.rules import Alert, Thresholds

UPSERT_CHUNK = 1_000
SHOWN = (
    "id",
    "key",
    "rule",
    "severity",
    "workspace_id",
    "status",
    "summary",
    "details",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "notifications",
    "notified_at",
)


@dataclass
class Changes:
    opened: list[str]
    resolved: list[str]
    firing: int


def reconcile(conn: sa.Connection, firing: list[Alert], now: datetime) -> Changes:
    """Write one evaluation's result; the caller holds the evaluation lock (cycle.py)."""
    opened: list[str] = []
    # In chunks: one statement's parameters are capped at 65,535 (10,000 workspaces raise more alerts).
    for start in range(0, len(firing), UPSERT_CHUNK):
        rows = [
            {
                "key": alert.key,
                "rule": alert.rule,
                "severity": alert.severity,
                "workspace_id": alert.workspace_id,
                "status": "firing",
                "summary": alert.summary,
                "details": alert.details,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for alert in firing[start : start + UPSERT_CHUNK]
        ]
        statement = insert(alerts).values(rows)
        result = conn.execute(
            statement.on_conflict_do_update(
                index_elements=[alerts.c.key],
                # A literal, as in the partial index: a bound parameter stops matching it once psycopg
                # prepares the statement (from its fifth execution on a connection).
                index_where=sa.text("status = 'firing'"),
                set_={
                    "last_seen_at": statement.excluded.last_seen_at,
                    "summary": statement.excluded.summary,
                    "details": statement.excluded.details,
                    "severity": statement.excluded.severity,
                },
            ).returning(alerts.c.key, alerts.c.first_seen_at)
        )
        opened += [key for key, first_seen in result if first_seen == now]
    still = sa.cast(sa.bindparam("firing_keys", [alert.key for alert in firing]), ARRAY(sa.Text))
    resolved = conn.execute(
        sa.update(alerts)
        .where(alerts.c.status == "firing", alerts.c.key != sa.func.all(still))
        .values(status="resolved", resolved_at=now)
        .returning(alerts.c.key)
    ).scalars()
    opened.sort()
    return Changes(opened, sorted(resolved), len(firing))


def due(
    conn: sa.Connection, now: datetime, thresholds: Thresholds
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(newly firing, reminders, resolved) alerts whose notification is due."""
    remind_before = now - timedelta(minutes=thresholds.renotify_minutes)
    columns = [alerts.c[name] for name in SHOWN]
    firing = conn.execute(
        sa.select(*columns)
        .where(alerts.c.status == "firing", alerts.c.notifications == 0)
        .order_by(alerts.c.severity, alerts.c.key)
    ).mappings()
    new = [dict(row) for row in firing]
    reminders = [
        dict(row)
        for row in conn.execute(
            sa.select(*columns)
            .where(
                alerts.c.status == "firing",
                alerts.c.notifications > 0,
                alerts.c.notifications < thresholds.max_notifications,
                alerts.c.notified_at <= remind_before,
            )
            .order_by(alerts.c.severity, alerts.c.key)
        ).mappings()
    ]
    resolved = [
        dict(row)
        for row in conn.execute(
            sa.select(*columns)
            .where(
                alerts.c.status == "resolved",
                alerts.c.notifications > 0,
                alerts.c.resolved_notified_at.is_(None),
            )
            .order_by(alerts.c.key)
        ).mappings()
    ]
    return new, reminders, resolved


def _ids(ids: list[int]) -> sa.ColumnElement:
    return alerts.c.id == sa.func.any(sa.cast(sa.bindparam("alert_ids", ids), ARRAY(sa.BigInteger)))


def mark_notified(conn: sa.Connection, ids: list[int], now: datetime) -> None:
    if ids:
        conn.execute(
            sa.update(alerts)
            .where(_ids(ids))
            .values(notifications=alerts.c.notifications + 1, notified_at=now)
        )


def mark_resolved_notified(conn: sa.Connection, ids: list[int], now: datetime) -> None:
    if ids:
        conn.execute(sa.update(alerts).where(_ids(ids)).values(resolved_notified_at=now))


def workspace_alerts(
    conn: sa.Connection, workspace_id: uuid.UUID, *, status: str | None = "firing", limit: int = 100
) -> list[dict[str, Any]]:
    """A workspace's alerts, newest first (`status` None: open and resolved)."""
    query = sa.select(*[alerts.c[name] for name in SHOWN]).where(alerts.c.workspace_id == workspace_id)
    if status is not None:
        query = query.where(alerts.c.status == status)
    rows = conn.execute(query.order_by(alerts.c.last_seen_at.desc(), alerts.c.id.desc()).limit(limit))
    return [dict(row) for row in rows.mappings()]
