"""Gauges read from the tables at scrape time: queue depths and ages, the retry index, connections needing
attention, each portal's rate budget, open alerts. Each is one bounded query on an index: the webhook queue
by its pending index, the outbox by (workspace, id) past each syncing workspace's cursor, dead rows by their
partial index; the budget rows are two per portal."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from hubspot_pipeline.sync.store.queues import OUTBOX_STREAM
from hubspot_pipeline.sync.store.workspaces import syncing_workspaces

Sample = tuple[dict[str, str], float]


@dataclass
class GaugeValues:
    webhook_depth: float = 0
    webhook_oldest_age: float = 0
    outbox_depth: float = 0
    outbox_oldest_age: float = 0
    retry_rows: list[Sample] | None = None
    dead_rows: list[Sample] | None = None
    needs_reconnect: float = 0
    rate_budget: list[Sample] | None = None
    open_alerts: list[Sample] | None = None


WEBHOOK_QUEUE = sa.text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(received_at)), 0) FROM webhook_events "
    "WHERE processed_at IS NULL AND workspace_id = ANY(CAST(:ids AS uuid[]))"
)
# Outbox rows past each syncing workspace's cursor, found through lead_changes (workspace_id, id).
OUTBOX = sa.text(
    "SELECT coalesce(sum(pending.n), 0), coalesce(extract(epoch FROM now() - min(pending.oldest)), 0) "
    "FROM unnest(CAST(:ids AS uuid[])) AS w(id) "
    "LEFT JOIN sync_cursors c ON c.workspace_id = w.id AND c.stream = :stream "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, min(changed_at) AS oldest FROM lead_changes l "
    "  WHERE l.workspace_id = w.id AND l.id > coalesce((c.cursor #>> '{}')::bigint, 0)) AS pending"
)
RETRYING = sa.text(
    "SELECT entity_type, count(*) FROM hubspot_sync_status WHERE status = 'error' AND dead_at IS NULL "
    "GROUP BY entity_type"
)
DEAD = sa.text(
    "SELECT entity_type, count(*) FROM hubspot_sync_status WHERE dead_at IS NOT NULL AND status = 'error' "
    "GROUP BY entity_type"
)
NEEDS_RECONNECT = sa.text(
    "SELECT count(*) FROM hubspot_sync_config WHERE connection_status = 'needs_reconnect'"
)
# In-flight grants lie in the future (their provisional bound): they count, as they do for the limiter.
# The daily count is today's (UTC, the limiter's default day) when the portal's cap is known.
RATE_BUDGET = sa.text(
    "SELECT portal_key, policy, \"limit\", CASE WHEN policy = 'daily' THEN "
    "  CASE WHEN window_start >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' THEN used ELSE 0 END "
    "ELSE (SELECT count(*) FROM unnest(grants) AS g WHERE g > now() - window_ms * interval '1 millisecond') END "
    "FROM hubspot_rate_limit_buckets WHERE policy IN ('general', 'daily') AND \"limit\" > 0 "
    "ORDER BY portal_key, policy"
)
OPEN_ALERTS = sa.text(
    "SELECT rule, severity, count(*) FROM alerts WHERE status = 'firing' GROUP BY rule, severity ORDER BY 1, 2"
)
WINDOW_NAMES = {"general": "10s", "daily": "day"}


def read_gauges(conn: sa.Connection) -> GaugeValues:
    ids = [str(workspace.id) for workspace in syncing_workspaces(conn)]
    values = GaugeValues()
    # extract(epoch ...) and sum(count) are numeric: floats here, for the exposition.
    depth, age = conn.execute(WEBHOOK_QUEUE, {"ids": ids}).one()
    values.webhook_depth, values.webhook_oldest_age = float(depth), float(age)
    depth, age = conn.execute(OUTBOX, {"ids": ids, "stream": OUTBOX_STREAM}).one()
    values.outbox_depth, values.outbox_oldest_age = float(depth), float(age)
    values.retry_rows = [({"object_type": t}, n) for t, n in conn.execute(RETRYING)]
    values.dead_rows = [({"object_type": t}, n) for t, n in conn.execute(DEAD)]
    values.needs_reconnect = conn.execute(NEEDS_RECONNECT).scalar_one()
    values.rate_budget = [
        ({"portal": portal, "window": WINDOW_NAMES[policy]}, min(float(used) / limit, 1.0))
        for portal, policy, limit, used in conn.execute(RATE_BUDGET)
    ]
    values.open_alerts = [
        ({"rule": rule, "severity": severity}, n) for rule, severity, n in conn.execute(OPEN_ALERTS)
    ]
    return values
