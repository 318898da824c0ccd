"""The figures the alert rules read, gathered from PostgreSQL in a handful of grouped queries (each on an
index: runs by finish time, pending webhook events, each syncing workspace's outbox past its cursor, audit
rows by action), so an evaluation costs the same every minute whatever the history.

`now` is a parameter, not the database clock, so tests can move time forward (a window passing, a day
ending) without waiting for it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.monitoring.rules import Facts, FailedRun, PortalFacts, Thresholds, WorkspaceFacts
from hubspot_pipeline.sync.store.queues import OUTBOX_STREAM, SEARCH_STREAM
from hubspot_pipeline.sync.store.workspaces import syncing_workspaces

# Workspaces worth a look: connected (or once connected) to HubSpot, or with runs on record.
WORKSPACES = sa.text(
    "SELECT w.id, w.slug, coalesce(c.connection_status, 'connected') AS connection_status, "
    "  i.created_at AT TIME ZONE current_setting('TimeZone') AS connected_at "
    "FROM workspaces w "
    "LEFT JOIN hubspot_integrations i ON i.workspace_id = w.id "
    "LEFT JOIN hubspot_sync_config c ON c.workspace_id = w.id "
    "WHERE i.id IS NOT NULL OR c.connection_status = 'needs_reconnect' "
    "  OR EXISTS (SELECT 1 FROM sync_runs r WHERE r.workspace_id = w.id)"
)
RUNS_IN_WINDOW = sa.text(
    "SELECT workspace_id, count(*), sum(api_calls), sum(api_errors), sum(records_synced), "
    "  sum(records_failed), sum(rate_limited) "
    "FROM sync_runs WHERE finished_at > :since AND workspace_id IS NOT NULL GROUP BY workspace_id"
)
LAST_RUN = sa.text(
    "SELECT w.id, last.at FROM unnest(CAST(:ids AS uuid[])) AS w(id) CROSS JOIN LATERAL "
    "(SELECT max(finished_at) AS at FROM sync_runs r WHERE r.workspace_id = w.id) AS last"
)
# The latest failure of each (workspace, job) with no success after it.
FAILED_RUNS = sa.text(
    "SELECT f.workspace_id, f.job, f.finished_at, f.error, f.run_id FROM ("
    "  SELECT DISTINCT ON (workspace_id, job) workspace_id, job, finished_at, error, run_id FROM sync_runs "
    "  WHERE outcome = 'failed' ORDER BY workspace_id, job, finished_at DESC) AS f "
    "WHERE NOT EXISTS (SELECT 1 FROM sync_runs s WHERE s.workspace_id IS NOT DISTINCT FROM f.workspace_id "
    "  AND s.job = f.job AND s.outcome = 'succeeded' AND s.finished_at > f.finished_at)"
)
REFRESH_FAILURES = sa.text(
    "SELECT workspace_id, count(*) FROM audit_log WHERE action = 'hubspot.token_refresh_failed' "
    "AND occurred_at > :since AND workspace_id IS NOT NULL GROUP BY workspace_id"
)
WEBHOOKS = sa.text(
    "SELECT workspace_id, count(*), min(received_at) FROM webhook_events "
    "WHERE processed_at IS NULL AND workspace_id IS NOT NULL GROUP BY workspace_id"
)
OUTBOX = sa.text(
    "SELECT w.id, pending.n, pending.oldest FROM unnest(CAST(:ids AS uuid[])) AS w(id) "
    "LEFT JOIN sync_cursors c ON c.workspace_id = w.id AND c.stream = :stream "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, min(changed_at) AS oldest FROM lead_changes l "
    "  WHERE l.workspace_id = w.id AND l.id > coalesce((c.cursor #>> '{}')::bigint, 0)) AS pending "
    "WHERE pending.n > 0"
)
SEARCH_CURSORS = sa.text("SELECT workspace_id, updated_at FROM sync_cursors WHERE stream = :stream")
# The seed's execution_time has no time zone: it holds the session's local time (its default is now()).
FAILED_EXECUTIONS = sa.text(
    "SELECT workspace_id, count(*) FROM hubspot_workflow_executions WHERE status = 'failed' "
    "AND execution_time > (CAST(:since AS timestamptz) AT TIME ZONE current_setting('TimeZone')) "
    "AND workspace_id IS NOT NULL GROUP BY workspace_id"
)
# Today's count (UTC days, the limiter's default) of each portal whose daily cap is known.
PORTALS = sa.text(
    'SELECT portal_key, "limit", CASE WHEN window_start >= '
    "  date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' THEN used ELSE 0 END "
    "FROM hubspot_rate_limit_buckets WHERE policy = 'daily' AND \"limit\" > 0"
)
PORTAL_WORKSPACES = sa.text(
    "SELECT 'hub:' || i.hub_id, w.id, w.slug FROM hubspot_integrations i JOIN workspaces w ON w.id = i.workspace_id "
    "WHERE i.refresh_token IS NOT NULL ORDER BY w.slug"
)


def _pairs(result: Any) -> dict[Any, Any]:
    return {row[0]: row[1] for row in result}


def gather(conn: sa.Connection, thresholds: Thresholds, now: datetime) -> Facts:
    since = now - thresholds.window
    syncing = {workspace.id for workspace in syncing_workspaces(conn)}
    base = conn.execute(WORKSPACES).all()
    ids = [str(row.id) for row in base]
    window = {row[0]: row[1:] for row in conn.execute(RUNS_IN_WINDOW, {"since": since})}
    last_run: dict[Any, Any] = _pairs(conn.execute(LAST_RUN, {"ids": ids}))
    failed: dict[uuid.UUID | None, list[FailedRun]] = defaultdict(list)
    for workspace_id, job, finished_at, error, run_id in conn.execute(FAILED_RUNS):
        failed[workspace_id].append(FailedRun(job, finished_at, error, run_id))
    refreshes: dict[Any, Any] = _pairs(conn.execute(REFRESH_FAILURES, {"since": since}))
    webhooks = {row[0]: row[1:] for row in conn.execute(WEBHOOKS)}
    outbox = {
        row[0]: row[1:]
        for row in conn.execute(OUTBOX, {"ids": [str(i) for i in syncing], "stream": OUTBOX_STREAM})
    }
    cursors: dict[Any, Any] = _pairs(conn.execute(SEARCH_CURSORS, {"stream": SEARCH_STREAM}))
    executions: dict[Any, Any] = _pairs(conn.execute(FAILED_EXECUTIONS, {"since": since}))
    workspaces = []
    for row in base:
        runs: Any = window.get(row.id) or (0, 0, 0, 0, 0, 0)
        pending_webhooks = webhooks.get(row.id) or (0, None)
        pending_outbox = outbox.get(row.id) or (0, None)
        workspaces.append(
            WorkspaceFacts(
                workspace_id=row.id,
                slug=row.slug,
                syncing=row.id in syncing,
                connection_status=row.connection_status,
                connected_at=row.connected_at,
                refresh_failures=int(refreshes.get(row.id, 0)),
                runs=int(runs[0]),
                api_calls=int(runs[1] or 0),
                api_errors=int(runs[2] or 0),
                records_synced=int(runs[3] or 0),
                records_failed=int(runs[4] or 0),
                rate_limited=int(runs[5] or 0),
                last_run_at=last_run.get(row.id),
                failed_runs=tuple(failed.get(row.id, ())),
                webhook_pending=int(pending_webhooks[0]),
                webhook_oldest_at=pending_webhooks[1],
                outbox_pending=int(pending_outbox[0]),
                outbox_oldest_at=pending_outbox[1],
                search_cursor_at=cursors.get(row.id),
                failed_trigger_executions=int(executions.get(row.id, 0)),
            )
        )
    on_portal: dict[str, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for portal_key, workspace_id, slug in conn.execute(PORTAL_WORKSPACES):
        on_portal[portal_key].append((workspace_id, slug))
    portals = tuple(
        PortalFacts(portal_key, int(used), int(limit), tuple(on_portal.get(portal_key, ())))
        for portal_key, limit, used in conn.execute(PORTALS, {"now": now})
    )
    known = {row.id for row in base}
    elsewhere = tuple(
        run for workspace_id, runs_ in failed.items() if workspace_id not in known for run in runs_
    )
    return Facts(now=now, workspaces=tuple(workspaces), portals=portals, failed_runs_elsewhere=elsewhere)
