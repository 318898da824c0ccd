"""Every metric `GET /metrics` exports: its name, type, help text and label names, in one place.

Label sets stay bounded by construction: `Figures` refuses a label this catalogue does not name, and a label
value that is not a short identifier (so an email, a name or a URL can never become a label). No metric has a
lead, email or run label. The only per-portal series are the rate-budget gauges (two per connected portal),
computed at scrape time; every other series is one per label combination below, whatever the number of
workspaces (docs/architecture.md, "Monitoring", says what that means at 10,000 workspaces).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PREFIX = "hubspot_pipeline_"

# Latency buckets, in seconds: from the webhook path's few seconds to an hour-old outbox.
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "histogram", "gauge"]
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


# -- recorded by the processes that do the work (runs, the API), summed in metric_counters ---------------
SYNC_RUNS = Metric(
    PREFIX + "sync_runs",
    "counter",
    "Runs that finished, by Dagster job (or `cli`) and outcome (succeeded, failed).",
    ("job", "outcome"),
)
RECORDS_SYNCED = Metric(
    PREFIX + "records_synced",
    "counter",
    "Records written, by object type (contact, company, email, ...) and direction (to_hubspot, from_hubspot).",
    ("object_type", "direction"),
)
RECORDS_FAILED = Metric(
    PREFIX + "records_failed",
    "counter",
    "Records that failed and went to the retry index, by object type and direction.",
    ("object_type", "direction"),
)
API_CALLS = Metric(
    PREFIX + "hubspot_api_calls",
    "counter",
    "HubSpot API calls (every attempt, retries included), by endpoint family and HTTP status (`network`: no answer).",
    ("family", "status"),
)
ERRORS = Metric(
    PREFIX + "errors",
    "counter",
    "HubSpot calls that failed for good (after retries), by type: auth, rate_limit, validation, sync, network.",
    ("type",),
)
RATE_LIMITED = Metric(
    PREFIX + "hubspot_rate_limited",
    "counter",
    "429 answers from HubSpot, by policy (ten_secondly_rolling, secondly, daily, ...).",
    ("policy",),
)
TOKEN_REFRESHES = Metric(
    PREFIX + "token_refreshes",
    "counter",
    "OAuth access-token refreshes, by outcome (succeeded, failed).",
    ("outcome",),
)
LATENCY = Metric(
    PREFIX + "latency_seconds",
    "histogram",
    "Seconds from a change to its effect, by path: hubspot_edit_to_lead, lead_change_to_hubspot, "
    "email_event_to_hubspot, engagement_to_trigger.",
    ("path",),
    LATENCY_BUCKETS,
)
NOTIFICATIONS = Metric(
    PREFIX + "alert_notifications",
    "counter",
    "Alert notifications sent through apprise, by kind (firing, reminder, resolved) and outcome (sent, failed).",
    ("kind", "outcome"),
)

# -- computed at scrape time from the tables ---------------------------------------------------------------
WEBHOOK_QUEUE_DEPTH = Metric(
    PREFIX + "webhook_queue_depth", "gauge", "Webhook events of connected workspaces not processed yet."
)
WEBHOOK_QUEUE_OLDEST = Metric(
    PREFIX + "webhook_queue_oldest_age_seconds",
    "gauge",
    "Age of the oldest unprocessed webhook event of a connected workspace (0 when none waits).",
)
OUTBOX_DEPTH = Metric(
    PREFIX + "outbox_depth", "gauge", "Lead outbox rows past their workspace's sync cursor."
)
OUTBOX_OLDEST = Metric(
    PREFIX + "outbox_oldest_age_seconds",
    "gauge",
    "Age of the oldest lead outbox row past its workspace's sync cursor (0 when none waits).",
)
RETRY_INDEX = Metric(
    PREFIX + "retry_index_rows",
    "gauge",
    "Rows in the retry index (failed, retried every run), by object type.",
    ("object_type",),
)
RETRY_DEAD = Metric(
    PREFIX + "retry_dead_rows",
    "gauge",
    "Rows given up on, waiting for a person, by object type.",
    ("object_type",),
)
NEEDS_RECONNECT = Metric(
    PREFIX + "workspaces_needing_reconnect",
    "gauge",
    "Workspaces whose HubSpot connection was refused (revoked or expired refresh token): they must reconnect.",
)
RATE_BUDGET = Metric(
    PREFIX + "rate_budget_used_ratio",
    "gauge",
    "Share of a portal's HubSpot budget in use: window=10s (general calls in the rolling 10 seconds) and "
    "window=day (calls since the portal's midnight, when its daily cap is known).",
    ("portal", "window"),
)
OPEN_ALERTS = Metric(
    PREFIX + "open_alerts", "gauge", "Alerts firing now, by rule and severity.", ("rule", "severity")
)

RECORDED = (
    SYNC_RUNS,
    RECORDS_SYNCED,
    RECORDS_FAILED,
    API_CALLS,
    ERRORS,
    RATE_LIMITED,
    TOKEN_REFRESHES,
    LATENCY,
    NOTIFICATIONS,
)
GAUGES = (
    WEBHOOK_QUEUE_DEPTH,
    WEBHOOK_QUEUE_OLDEST,
    OUTBOX_DEPTH,
    OUTBOX_OLDEST,
    RETRY_INDEX,
    RETRY_DEAD,
    NEEDS_RECONNECT,
    RATE_BUDGET,
    OPEN_ALERTS,
)
BY_NAME = {metric.name: metric for metric in (*RECORDED, *GAUGES)}

# The latency paths, as `path` label values.
HUBSPOT_EDIT_TO_LEAD = "hubspot_edit_to_lead"
LEAD_CHANGE_TO_HUBSPOT = "lead_change_to_hubspot"
EMAIL_EVENT_TO_HUBSPOT = "email_event_to_hubspot"
ENGAGEMENT_TO_TRIGGER = "engagement_to_trigger"
