"""The alert rules: figures in, firing alerts out. Pure, so each rule is tested on plain values.

Each alert has a key that names what it is about (`error_rate:<workspace id>`), so an alert that keeps firing
is one row however many evaluations see it, and details made of counts, rates, ids and setting names only:
never an email, a name or a message text (an error's type stands for it).

Rules (thresholds: `Thresholds`, from the ALERT_* settings):
    auth_failure     a workspace needs to reconnect HubSpot, or its token refreshes failed in the window
    error_rate       a workspace's failed HubSpot calls, or failed records, over the window past the rate
    webhook_queue_delay / outbox_delay
                     the oldest waiting webhook event / lead change of a syncing workspace is older than allowed
    cursor_lag       a syncing workspace's HubSpot read position has not advanced for too long
    sync_missed      no run of a syncing workspace has finished for too long (a schedule or sensor stopped)
    daily_budget     a portal has used this share of its daily HubSpot calls
    rate_limited     a workspace's runs got this many 429s in the window (sustained, not one burst retried)
    run_failed       the latest run of a job for a workspace failed (resolved by its next success)
    trigger_failed   workflow trigger executions of a workspace failed in the window
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

CRITICAL, WARNING = "critical", "warning"
RULES = (
    "auth_failure",
    "error_rate",
    "webhook_queue_delay",
    "outbox_delay",
    "cursor_lag",
    "sync_missed",
    "daily_budget",
    "rate_limited",
    "run_failed",
    "trigger_failed",
)


@dataclass(frozen=True)
class Thresholds:
    error_rate: float = 0.10
    error_window_minutes: float = 15
    error_min_calls: int = 20
    queue_delay_minutes: float = 10
    cursor_lag_minutes: float = 60
    sync_missed_minutes: float = 60
    daily_budget_ratio: float = 0.8
    rate_limited_count: int = 20
    renotify_minutes: float = 240
    max_notifications: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        return cls(
            error_rate=settings.alert_error_rate,
            error_window_minutes=settings.alert_error_window_minutes,
            error_min_calls=settings.alert_error_min_calls,
            queue_delay_minutes=settings.alert_queue_delay_minutes,
            cursor_lag_minutes=settings.alert_cursor_lag_minutes,
            sync_missed_minutes=settings.alert_sync_missed_minutes,
            daily_budget_ratio=settings.alert_daily_budget_ratio,
            rate_limited_count=settings.alert_rate_limited_count,
            renotify_minutes=settings.alert_renotify_minutes,
            max_notifications=settings.alert_max_notifications,
        )

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.error_window_minutes)


@dataclass(frozen=True)
class FailedRun:
    job: str
    finished_at: datetime
    error: str | None  # its type, never its message
    run_id: str


@dataclass(frozen=True)
class WorkspaceFacts:
    workspace_id: uuid.UUID
    slug: str
    syncing: bool  # connected, sync switched on: sensors and schedules should be running it
    connection_status: str = "connected"
    connected_at: datetime | None = None
    refresh_failures: int = 0  # in the window
    # Sums over the runs that finished in the window:
    runs: int = 0
    api_calls: int = 0
    api_errors: int = 0
    records_synced: int = 0
    records_failed: int = 0
    rate_limited: int = 0
    last_run_at: datetime | None = None  # any run, any outcome, ever (within the runs kept)
    failed_runs: tuple[FailedRun, ...] = ()  # jobs whose latest run failed
    webhook_pending: int = 0
    webhook_oldest_at: datetime | None = None
    outbox_pending: int = 0
    outbox_oldest_at: datetime | None = None
    search_cursor_at: datetime | None = None
    failed_trigger_executions: int = 0  # in the window


@dataclass(frozen=True)
class PortalFacts:
    portal_key: str
    daily_used: int
    daily_limit: int
    workspaces: tuple[tuple[uuid.UUID, str], ...] = ()  # (id, slug) of the workspaces on this portal


@dataclass(frozen=True)
class Facts:
    now: datetime
    workspaces: tuple[WorkspaceFacts, ...] = ()
    portals: tuple[PortalFacts, ...] = ()
    failed_runs_elsewhere: tuple[FailedRun, ...] = ()  # failed jobs that belong to no workspace


@dataclass(frozen=True)
class Alert:
    key: str
    rule: str
    severity: str
    workspace_id: uuid.UUID | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _workspace_alerts(w: WorkspaceFacts, t: Thresholds, now: datetime) -> list[Alert]:
    found: list[Alert] = []
    ws = {"workspace_id": str(w.workspace_id), "workspace": w.slug}

    def alert(rule: str, severity: str, summary: str, suffix: str = "", **details: Any) -> None:
        key = f"{rule}:{w.workspace_id}" + (f":{suffix}" if suffix else "")
        found.append(Alert(key, rule, severity, w.workspace_id, f"{w.slug}: {summary}", {**ws, **details}))

    if w.connection_status == "needs_reconnect" or w.refresh_failures:
        alert(
            "auth_failure",
            CRITICAL,
            "HubSpot refused the workspace's connection; reconnect HubSpot for it"
            if w.connection_status == "needs_reconnect"
            else f"{w.refresh_failures} token refresh(es) failed in the last {t.error_window_minutes:g} minutes",
            connection_status=w.connection_status,
            refresh_failures=w.refresh_failures,
            window_minutes=t.error_window_minutes,
        )
    call_rate = _rate(w.api_errors, w.api_calls)
    records = w.records_synced + w.records_failed
    record_rate = _rate(w.records_failed, records)
    if (w.api_calls >= t.error_min_calls and call_rate >= t.error_rate) or (
        records >= t.error_min_calls and record_rate >= t.error_rate
    ):
        alert(
            "error_rate",
            WARNING,
            f"{max(call_rate, record_rate):.0%} errors over the last {t.error_window_minutes:g} minutes "
            f"(threshold {t.error_rate:.0%})",
            call_error_rate=call_rate,
            record_error_rate=record_rate,
            api_calls=w.api_calls,
            api_errors=w.api_errors,
            records_synced=w.records_synced,
            records_failed=w.records_failed,
            runs=w.runs,
            window_minutes=t.error_window_minutes,
            threshold=t.error_rate,
        )
    delay = timedelta(minutes=t.queue_delay_minutes)
    if w.syncing and w.webhook_oldest_at is not None and now - w.webhook_oldest_at > delay:
        alert(
            "webhook_queue_delay",
            WARNING,
            f"the oldest of {w.webhook_pending} waiting webhook events is "
            f"{_minutes(now - w.webhook_oldest_at)} minutes old",
            pending=w.webhook_pending,
            oldest_age_minutes=_minutes(now - w.webhook_oldest_at),
            threshold_minutes=t.queue_delay_minutes,
        )
    if w.syncing and w.outbox_oldest_at is not None and now - w.outbox_oldest_at > delay:
        alert(
            "outbox_delay",
            WARNING,
            f"the oldest of {w.outbox_pending} waiting lead changes is {_minutes(now - w.outbox_oldest_at)} "
            "minutes old",
            pending=w.outbox_pending,
            oldest_age_minutes=_minutes(now - w.outbox_oldest_at),
            threshold_minutes=t.queue_delay_minutes,
        )
    lag = timedelta(minutes=t.cursor_lag_minutes)
    if w.syncing and w.search_cursor_at is not None and now - w.search_cursor_at > lag:
        alert(
            "cursor_lag",
            WARNING,
            f"HubSpot changes were last read {_minutes(now - w.search_cursor_at)} minutes ago",
            lag_minutes=_minutes(now - w.search_cursor_at),
            threshold_minutes=t.cursor_lag_minutes,
        )
    missed = timedelta(minutes=t.sync_missed_minutes)
    since = w.last_run_at or w.connected_at
    if w.syncing and since is not None and now - since > missed:
        alert(
            "sync_missed",
            WARNING,
            f"no sync run has finished for {_minutes(now - since)} minutes: are the Dagster daemon, its "
            "schedules and sensors running?",
            minutes_since=_minutes(now - since),
            last_run_at=w.last_run_at.isoformat() if w.last_run_at else None,
            threshold_minutes=t.sync_missed_minutes,
        )
    if w.rate_limited >= t.rate_limited_count:
        alert(
            "rate_limited",
            WARNING,
            f"{w.rate_limited} rate-limit answers (429) in the last {t.error_window_minutes:g} minutes",
            rate_limited=w.rate_limited,
            window_minutes=t.error_window_minutes,
            threshold=t.rate_limited_count,
        )
    for run in w.failed_runs:
        alert(
            "run_failed",
            CRITICAL,
            f"the last {run.job} run failed ({run.error or 'see the run in Dagster'})",
            suffix=run.job,
            job=run.job,
            run_id=run.run_id,
            error_type=run.error,
            finished_at=run.finished_at.isoformat(),
        )
    if w.failed_trigger_executions:
        alert(
            "trigger_failed",
            WARNING,
            f"{w.failed_trigger_executions} workflow trigger execution(s) failed in the last "
            f"{t.error_window_minutes:g} minutes",
            failed=w.failed_trigger_executions,
            window_minutes=t.error_window_minutes,
        )
    return found


def _portal_alerts(p: PortalFacts, t: Thresholds) -> list[Alert]:
    ratio = _rate(p.daily_used, p.daily_limit)
    if not p.daily_limit or ratio < t.daily_budget_ratio:
        return []
    details = {
        "portal": p.portal_key,
        "daily_used": p.daily_used,
        "daily_limit": p.daily_limit,
        "ratio": ratio,
        "threshold": t.daily_budget_ratio,
    }
    summary = f"portal {p.portal_key} has used {ratio:.0%} of its {p.daily_limit} daily HubSpot calls"
    if not p.workspaces:
        return [Alert(f"daily_budget:{p.portal_key}", "daily_budget", WARNING, None, summary, details)]
    return [
        Alert(
            f"daily_budget:{p.portal_key}:{workspace_id}",
            "daily_budget",
            WARNING,
            workspace_id,
            f"{slug}: {summary}",
            {"workspace_id": str(workspace_id), "workspace": slug, **details},
        )
        for workspace_id, slug in p.workspaces
    ]


def evaluate(facts: Facts, thresholds: Thresholds) -> list[Alert]:
    """Every alert firing now, sorted by key."""
    found: list[Alert] = []
    for workspace in facts.workspaces:
        found += _workspace_alerts(workspace, thresholds, facts.now)
    for portal in facts.portals:
        found += _portal_alerts(portal, thresholds)
    for run in facts.failed_runs_elsewhere:
        found.append(
            Alert(
                f"run_failed:{run.job}",
                "run_failed",
                CRITICAL,
                None,
                f"the last {run.job} run failed ({run.error or 'see the run in Dagster'})",
                {
                    "job": run.job,
                    "run_id": run.run_id,
                    "error_type": run.error,
                    "finished_at": run.finished_at.isoformat(),
                },
            )
        )
    return sorted(found, key=lambda alert: alert.key)
