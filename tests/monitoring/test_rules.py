"""The alert rules on plain figures: each fires past its threshold and not below it, with a key that names
what it is about and details free of personal data. The end-to-end conditions (a revoked token, sandbox
faults, a stopped queue, a spent budget, a failed run) are in test_alert_conditions.py."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

from hubspot_pipeline.monitoring.rules import (
    Facts,
    FailedRun,
    PortalFacts,
    Thresholds,
    WorkspaceFacts,
    evaluate,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
WS = uuid.UUID("00000000-0000-0000-0000-0000000000aa")
T = Thresholds()


def _workspace(**values: object) -> WorkspaceFacts:
    base = WorkspaceFacts(
        workspace_id=WS,
        slug="acme",
        syncing=True,
        connected_at=NOW - timedelta(days=3),
        last_run_at=NOW - timedelta(minutes=5),
        search_cursor_at=NOW - timedelta(minutes=5),
    )
    return dataclasses.replace(base, **values)  # type: ignore[arg-type]


def _rules(workspace: WorkspaceFacts, thresholds: Thresholds = T) -> list[str]:
    return [alert.rule for alert in evaluate(Facts(NOW, (workspace,)), thresholds)]


def test_a_healthy_workspace_raises_nothing() -> None:
    assert _rules(_workspace(api_calls=500, api_errors=3, records_synced=400, records_failed=2)) == []


def test_a_workspace_that_must_reconnect_or_whose_refreshes_fail_raises_auth_failure() -> None:
    assert _rules(_workspace(connection_status="needs_reconnect", syncing=False)) == ["auth_failure"]
    assert _rules(_workspace(refresh_failures=2)) == ["auth_failure"]


def test_error_rate_needs_both_the_rate_and_enough_volume() -> None:
    assert _rules(_workspace(api_calls=100, api_errors=10)) == ["error_rate"]
    assert _rules(_workspace(api_calls=100, api_errors=9)) == []
    assert _rules(_workspace(api_calls=10, api_errors=10)) == []  # below ALERT_ERROR_MIN_CALLS
    assert _rules(_workspace(records_synced=30, records_failed=20)) == ["error_rate"]
    strict = dataclasses.replace(T, error_rate=0.05)
    assert _rules(_workspace(api_calls=100, api_errors=9), strict) == ["error_rate"]


def test_queues_older_than_the_delay_raise_their_alerts_only_for_syncing_workspaces() -> None:
    old = NOW - timedelta(minutes=11)
    assert _rules(_workspace(webhook_pending=3, webhook_oldest_at=old)) == ["webhook_queue_delay"]
    assert _rules(_workspace(outbox_pending=3, outbox_oldest_at=old)) == ["outbox_delay"]
    assert _rules(_workspace(webhook_pending=3, webhook_oldest_at=NOW - timedelta(minutes=9))) == []
    assert _rules(_workspace(webhook_pending=3, webhook_oldest_at=old, syncing=False)) == []


def test_a_stale_cursor_and_runs_that_stopped_coming_raise_their_alerts() -> None:
    assert _rules(_workspace(search_cursor_at=NOW - timedelta(minutes=61))) == ["cursor_lag"]
    assert _rules(_workspace(last_run_at=NOW - timedelta(minutes=61))) == ["sync_missed"]
    # Never run: counted from the connection, so a workspace connected a minute ago raises nothing yet.
    assert _rules(_workspace(last_run_at=None, connected_at=NOW - timedelta(minutes=1))) == []
    assert _rules(_workspace(last_run_at=None, connected_at=NOW - timedelta(hours=2))) == ["sync_missed"]


def test_sustained_429s_failed_runs_and_failed_trigger_executions() -> None:
    assert _rules(_workspace(rate_limited=20)) == ["rate_limited"]
    assert _rules(_workspace(rate_limited=19)) == []
    failed = FailedRun("contacts_sync_job", NOW - timedelta(minutes=2), "HubSpotAuthError", "run-1")
    alerts = evaluate(Facts(NOW, (_workspace(failed_runs=(failed,)),)), T)
    assert [(a.rule, a.key) for a in alerts] == [("run_failed", f"run_failed:{WS}:contacts_sync_job")]
    assert alerts[0].details["error_type"] == "HubSpotAuthError"
    assert _rules(_workspace(failed_trigger_executions=1)) == ["trigger_failed"]


def test_a_portal_past_its_daily_share_alerts_each_of_its_workspaces() -> None:
    other = uuid.uuid4()
    portal = PortalFacts("hub:42", 800, 1000, ((WS, "acme"), (other, "beta")))
    alerts = evaluate(Facts(NOW, portals=(portal,)), T)
    assert [(a.rule, a.workspace_id) for a in alerts] == sorted(
        [("daily_budget", WS), ("daily_budget", other)], key=lambda pair: f"daily_budget:hub:42:{pair[1]}"
    )
    assert evaluate(Facts(NOW, portals=(PortalFacts("hub:42", 799, 1000, ()),)), T) == []
    assert evaluate(Facts(NOW, portals=(PortalFacts("hub:42", 5, 0, ()),)), T) == []  # cap unknown


def test_every_rule_keys_its_alert_by_what_it_is_about_and_details_are_plain_values() -> None:
    everything = _workspace(
        connection_status="needs_reconnect",
        api_calls=100,
        api_errors=50,
        webhook_pending=1,
        webhook_oldest_at=NOW - timedelta(hours=1),
        outbox_pending=1,
        outbox_oldest_at=NOW - timedelta(hours=1),
        search_cursor_at=NOW - timedelta(hours=2),
        last_run_at=NOW - timedelta(hours=2),
        rate_limited=50,
        failed_runs=(FailedRun("contacts_sync_job", NOW, None, "run-2"),),
        failed_trigger_executions=2,
    )
    alerts = evaluate(Facts(NOW, (everything,), (PortalFacts("hub:1", 900, 1000, ((WS, "acme"),)),)), T)
    assert len({alert.key for alert in alerts}) == len(alerts) == 10
    for alert in alerts:
        assert str(WS) in alert.key and alert.workspace_id == WS
        json.dumps(alert.details)  # plain JSON values only
        assert "@" not in json.dumps(alert.details) + alert.summary
