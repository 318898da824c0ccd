"""Queues, security and bookkeeping tables beyond the seed: webhook queue, sync requests, OAuth states,
API keys, the audit log and the shared rate-limit budget. Migration: 0003_platform."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from hubspot_pipeline.db.tables.base import NOW, metadata, uuid_pk, workspace_fk

# HubSpot webhook events, stored before the endpoint answers 2xx and consumed by a sensor. HubSpot's
# eventId is not unique on its own; the 4-tuple key is, so a redelivered event is stored once.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("portal_id", sa.BigInteger, nullable=False),
    workspace_fk(cascade=True),
    sa.Column("app_id", sa.BigInteger),
    sa.Column("subscription_id", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("object_id", sa.BigInteger, nullable=False),
    sa.Column("occurred_at", sa.BigInteger, nullable=False),  # epoch ms, as HubSpot sends it
    sa.Column("subscription_type", sa.Text, nullable=False),
    sa.Column("property_name", sa.Text),
    sa.Column("property_value", sa.Text),
    sa.Column("change_source", sa.Text),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint(
        "subscription_id", "event_id", "object_id", "occurred_at", name="webhook_events_dedup_key"
    ),
)
sa.Index(
    "webhook_events_pending_idx",
    webhook_events.c.id,
    postgresql_where=webhook_events.c.processed_at.is_(None),
)

# Sync requests made through the API (POST /sync/contacts); a sensor turns each into a Dagster run. `seq` is
# the sensor's cursor: inserts take a lock so that seq values become visible in order and none is skipped.
sync_requests = sa.Table(
    "sync_requests",
    metadata,
    uuid_pk(),
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("kind", sa.Text, nullable=False, server_default="contacts"),
    sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("full_resync", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("status", sa.Text, nullable=False, server_default="queued"),
    sa.Column("requested_by", sa.Text),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("launched_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("run_id", sa.Text),
    sa.Column("result", JSONB),
    # An activity request's UTC date range and event types (0005); unset: every day with pending events.
    sa.Column("date_from", sa.Date),
    sa.Column("date_to", sa.Date),
    sa.Column("event_types", ARRAY(sa.Text)),
    sa.CheckConstraint("kind IN ('contacts', 'activities')", name="sync_requests_kind_check"),
    sa.CheckConstraint(
        "date_from IS NULL OR date_to IS NULL OR date_from <= date_to", name="sync_requests_dates_check"
    ),
    sa.CheckConstraint(
        "status IN ('queued', 'launched', 'succeeded', 'failed')", name="sync_requests_status_check"
    ),
)

# Pending OAuth `state` values: bound to a workspace, single-use, expiring.
oauth_states = sa.Table(
    "oauth_states",
    metadata,
    sa.Column("nonce", sa.Text, primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

# API keys of workspaces, stored as SHA-256 hashes; the clear key is shown once, when issued.
workspace_api_keys = sa.Table(
    "workspace_api_keys",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("key_prefix", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

# Who did what: every mutating API call, OAuth event and operator command. Never holds tokens or PII.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    workspace_fk(ondelete="SET NULL"),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
)
sa.Index("audit_log_workspace_idx", audit_log.c.workspace_id, audit_log.c.occurred_at)
# The alert rules count recent actions of one kind (token refresh failures) across workspaces (0006).
sa.Index("audit_log_action_idx", audit_log.c.action, audit_log.c.occurred_at)

# The per-portal request budget shared by every process (runs, sensors, API): one row per portal and policy,
# read and written under a row lock (hubspot/limiter.py). `general` and `search` keep a sliding log of the
# grant times inside their window (`grants`), so no rolling window ever holds more than `limit`; `daily` counts
# `used` since `window_start`. `blocked_until` pauses every process after a 429.
hubspot_rate_limit_buckets = sa.Table(
    "hubspot_rate_limit_buckets",
    metadata,
    sa.Column("portal_key", sa.Text, primary_key=True),
    sa.Column("policy", sa.Text, primary_key=True),
    sa.Column("window_ms", sa.Integer, nullable=False),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("grants", ARRAY(sa.DateTime(timezone=True)), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used", sa.Integer, nullable=False, server_default="0"),
    sa.Column("blocked_until", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(
        "policy IN ('general', 'search', 'daily')", name="hubspot_rate_limit_buckets_policy_check"
    ),
)

# The app's timeline event templates, one per email event type, and a hash of the definition each was made
# from: runs post events with the stored id and touch the templates (developer credentials) only when the
# definition in code changed (0005).
hubspot_event_templates = sa.Table(
    "hubspot_event_templates",
    metadata,
    sa.Column("app_id", sa.BigInteger, primary_key=True),
    sa.Column("event_type", sa.Text, primary_key=True),
    sa.Column("template_id", sa.Text, nullable=False),
    sa.Column("definition_hash", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)
