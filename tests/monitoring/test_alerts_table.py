"""The alerts table: an alert seen again stays one open row with its first-seen time; thousands of alerts (a
stopped daemon at 10,000 workspaces) open and resolve in one evaluation, past one statement's 65,535
parameters; marking them notified takes one array, not one parameter each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hubspot_pipeline.db.tables import alerts
from hubspot_pipeline.monitoring.alerts import mark_notified, reconcile
from hubspot_pipeline.monitoring.rules import Alert


def test_thousands_of_alerts_open_once_stay_one_row_each_and_resolve(engine) -> None:
    tag = uuid.uuid4().hex[:8]
    firing = [
        Alert(f"bulk:{tag}:{i:05d}", "sync_missed", "warning", None, f"bulk {i}", {"i": i})
        for i in range(8000)
    ]
    first = datetime.now(UTC)
    with engine.begin() as conn:
        changes = reconcile(conn, firing, first)
        assert changes.opened == sorted(alert.key for alert in firing)
        ids = list(conn.execute(sa.select(alerts.c.id).where(alerts.c.key.like(f"bulk:{tag}:%"))).scalars())
        mark_notified(conn, ids, first)
    later = first + timedelta(minutes=1)
    with engine.begin() as conn:
        again = reconcile(conn, firing, later)
        assert again.opened == []
        rows = conn.execute(
            sa.select(
                sa.func.count(), sa.func.min(alerts.c.first_seen_at), sa.func.min(alerts.c.notifications)
            ).where(alerts.c.key.like(f"bulk:{tag}:%"), alerts.c.status == "firing")
        ).one()
        assert tuple(rows) == (8000, first, 1)
        resolved = reconcile(conn, [], later + timedelta(minutes=1))
        assert {key for key in resolved.resolved if key.startswith(f"bulk:{tag}:")} == {a.key for a in firing}
