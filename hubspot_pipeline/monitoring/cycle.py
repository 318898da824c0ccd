"""One evaluation of the alert rules, what `alerts_sensor` runs every minute:

    report = evaluate_alerts(engine, Thresholds.from_settings(settings), AppriseNotifier(urls))

facts (PostgreSQL) -> rules (pure) -> the alerts table (open, keep, resolve) -> notifications (apprise) ->
the audit log and the notification counter. A session advisory lock makes it one evaluation at a time across
the deployment; one that finds the lock taken skips. Notifications are sent after the alerts are committed,
and marked once delivered: a failed delivery is tried again at the next evaluation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db import audit
from hubspot_pipeline.monitoring import alerts as alert_store
from hubspot_pipeline.monitoring import facts as fact_store
from hubspot_pipeline.monitoring import rules
from hubspot_pipeline.monitoring.catalogue import NOTIFICATIONS
from hubspot_pipeline.monitoring.figures import Figures
from hubspot_pipeline.monitoring.notify import Notifier, firing_message, resolved_message
from hubspot_pipeline.monitoring.runs import prune_runs
from hubspot_pipeline.monitoring.store import record

log = logging.getLogger(__name__)
LOCK_KEY = 0x68_75_62_61_6C_65_72_74  # "hubalert": one evaluation at a time
ACTOR = "alerts"


@dataclass
class CycleReport:
    evaluated: bool
    firing: int = 0
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    notified: dict[str, int] = field(default_factory=dict)  # kind -> alerts in a delivered message
    failed: dict[str, int] = field(default_factory=dict)  # kind -> alerts in a message that failed

    def describe(self) -> str:
        if not self.evaluated:
            return "another evaluation holds the lock; skipped"
        return (
            f"{self.firing} firing ({len(self.opened)} new), {len(self.resolved)} resolved; notified "
            f"{sum(self.notified.values())}, failed {sum(self.failed.values())}"
        )


def evaluate_alerts(
    engine: sa.Engine,
    thresholds: rules.Thresholds,
    notifier: Notifier | None,
    *,
    now: datetime | None = None,
) -> CycleReport:
    with engine.connect() as lock_conn:
        if not lock_conn.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar_one():
            return CycleReport(evaluated=False)
        try:
            lock_conn.commit()
            return _evaluate(engine, thresholds, notifier, now)
        finally:
            lock_conn.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
            lock_conn.commit()


def _evaluate(
    engine: sa.Engine, thresholds: rules.Thresholds, notifier: Notifier | None, now: datetime | None
) -> CycleReport:
    with engine.begin() as conn:
        moment: datetime = now or conn.execute(sa.select(sa.func.now())).scalar_one()
        found = rules.evaluate(fact_store.gather(conn, thresholds, moment), thresholds)
        changes = alert_store.reconcile(conn, found, moment)
        new, reminders, resolved = alert_store.due(conn, moment, thresholds)
        prune_runs(conn, moment)
    report = CycleReport(True, changes.firing, changes.opened, changes.resolved)
    if notifier is None:
        return report
    if new or reminders:
        title, body = firing_message(new, reminders)
        _deliver(engine, notifier, title, body, {"firing": new, "reminder": reminders}, moment, report)
    if resolved:
        title, body = resolved_message(resolved)
        _deliver(engine, notifier, title, body, {"resolved": resolved}, moment, report)
    return report


def _deliver(
    engine: sa.Engine,
    notifier: Notifier,
    title: str,
    body: str,
    groups: dict[str, list[dict[str, Any]]],
    now: datetime,
    report: CycleReport,
) -> None:
    try:
        delivered = notifier.send(title, body)
    except Exception as error:  # a notifier must never stop the evaluation; say what kind of failure
        log.warning("alert notification failed: %s", type(error).__name__)
        delivered = False
    figures = Figures()
    with engine.begin() as conn:
        for kind, rows in groups.items():
            if not rows:
                continue
            ids = [row["id"] for row in rows]
            if delivered:
                if kind == "resolved":
                    alert_store.mark_resolved_notified(conn, ids, now)
                else:
                    alert_store.mark_notified(conn, ids, now)
            outcome = "sent" if delivered else "failed"
            (report.notified if delivered else report.failed)[kind] = len(rows)
            figures.count(NOTIFICATIONS, len(rows), kind=kind, outcome=outcome)
            audit.record_many(
                conn,
                [
                    {
                        "workspace_id": row["workspace_id"],
                        "actor": ACTOR,
                        "action": "alert.notify",
                        "target": row["key"],
                        "details": {
                            "rule": row["rule"],
                            "severity": row["severity"],
                            "kind": kind,
                            "outcome": outcome,
                        },
                    }
                    for row in rows
                ],
            )
        record(conn, figures)
