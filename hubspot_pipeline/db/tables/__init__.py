"""SQLAlchemy table definitions, one module per area. Migrations (db/migrations) create them;
`tests/db/test_migrations.py` checks that the two agree."""

from hubspot_pipeline.db.tables.base import metadata
from hubspot_pipeline.db.tables.coldcopy import (
    campaigns,
    companies,
    email_events,
    email_messages,
    leads,
    workspaces,
)
from hubspot_pipeline.db.tables.engagement import engagement_events, lead_engagement
from hubspot_pipeline.db.tables.monitoring import alerts, metric_counters, sync_runs
from hubspot_pipeline.db.tables.platform import (
    audit_log,
    hubspot_event_templates,
    hubspot_rate_limit_buckets,
    oauth_states,
    sync_requests,
    webhook_events,
    workspace_api_keys,
)
from hubspot_pipeline.db.tables.privacy import privacy_erasures
from hubspot_pipeline.db.tables.seed import (
    hubspot_activity_log,
    hubspot_field_mappings,
    hubspot_integrations,
    hubspot_sync_status,
    hubspot_workflow_executions,
    hubspot_workflow_trigger_leads,
    hubspot_workflow_triggers,
)
from hubspot_pipeline.db.tables.sync import (
    company_changes,
    hubspot_sync_config,
    lead_changes,
    lead_digests,
    sync_conflicts,
    sync_cursors,
)

__all__ = [
    "alerts",
    "audit_log",
    "campaigns",
    "companies",
    "company_changes",
    "email_events",
    "email_messages",
    "engagement_events",
    "hubspot_activity_log",
    "hubspot_event_templates",
    "hubspot_field_mappings",
    "hubspot_integrations",
    "hubspot_rate_limit_buckets",
    "hubspot_sync_config",
    "hubspot_sync_status",
    "hubspot_workflow_executions",
    "hubspot_workflow_trigger_leads",
    "hubspot_workflow_triggers",
    "lead_changes",
    "lead_digests",
    "lead_engagement",
    "leads",
    "metadata",
    "metric_counters",
    "oauth_states",
    "privacy_erasures",
    "sync_conflicts",
    "sync_cursors",
    "sync_requests",
    "sync_runs",
    "webhook_events",
    "workspace_api_keys",
    "workspaces",
]
