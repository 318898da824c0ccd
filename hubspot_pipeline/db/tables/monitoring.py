"""What monitoring keeps: metric figures summed over every process, one row per finished run, and alerts.
Written by hubspot_pipeline/monitoring; read by GET /metrics, GET /alerts and the alert rules.
Migration: 0006_monitoring."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from hubspot_pipeline.db.tables.base import NOW, metadata

# Counters and histogram buckets, one row per series (`hubspot_pipeline_records_synced`,
# `hubspot_pipeline_latency_seconds_bucket`, ...) and label set. Processes add to them with upserts, so a
# scrape reads a few hundred rows, whatever the number of runs, and every API worker exports the same values.
metric_counters = sa.Table(
    "metric_counters",
    metadata,
    sa.Column("series", sa.Text, primary_key=True),
    sa.Column("labels", JSONB, primary_key=True, server_default=sa.text("'{}'::jsonb")),
    sa.Column("value", sa.Float(precision=53), nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

# One row per finished run of a job (Dagster run id, or a generated id for the command line): its figures and
# outcome. The alert rules read windows of it (error rates, 429s, failed runs, runs that stopped coming).
sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("job", sa.Text, nullable=False),
    sa.Column("workspace_id", UUID(as_uuid=True), sa.ForeignKey("workspaces.id", ondelete="CASCADE")),
    sa.Column("trigger", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("api_errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rate_limited", sa.Integer, nullable=False, server_default="0"),
    sa.Column("records_synced", sa.Integer, nullable=False, server_default="0"),
    sa.Column("records_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),  # what failed, by type (exception class, step): never a message
    sa.CheckConstraint("outcome IN ('succeeded', 'failed')", name="sync_runs_outcome_check"),
)
sa.Index("sync_runs_workspace_idx", sync_runs.c.workspace_id, sync_runs.c.finished_at)
sa.Index("sync_runs_finished_idx", sync_runs.c.finished_at)
sa.Index(
    "sync_runs_failed_idx",
    sync_runs.c.workspace_id,
    sync_runs.c.job,
    sync_runs.c.finished_at,
    postgresql_where=sa.text("outcome = 'failed'"),
)

# Alerts raised by the rules (monitoring/rules.py): one open row per key while it fires; a resolved row stays
# as history and a recurrence opens a new one. Details hold counts, rates, ids and setting names only.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("workspace_id", UUID(as_uuid=True), sa.ForeignKey("workspaces.id", ondelete="CASCADE")),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("notifications", sa.Integer, nullable=False, server_default="0"),
    sa.Column("notified_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_notified_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("severity IN ('warning', 'critical')", name="alerts_severity_check"),
    sa.CheckConstraint("status IN ('firing', 'resolved')", name="alerts_status_check"),
)
sa.Index("alerts_open_key", alerts.c.key, unique=True, postgresql_where=sa.text("status = 'firing'"))
sa.Index("alerts_workspace_idx", alerts.c.workspace_id, alerts.c.last_seen_at)
