"""The six tables of the seed design, with the seed's columns, types, CHECK constraints and defaults.

The seed's `TEXT ENCRYPTED` token columns are plain TEXT holding Fernet ciphertext only (hubspot/tokens.py).
Columns the design needs beyond the seed are added by a later migration and listed in `docs/architecture.md`.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from hubspot_pipeline.db.tables.base import NOW, metadata, uuid_pk, workspace_fk

hubspot_integrations = sa.Table(
    "hubspot_integrations",
    metadata,
    uuid_pk(),
    workspace_fk(cascade=True),
    sa.Column("hub_id", sa.Text, nullable=False),
    sa.Column("access_token", sa.Text),  # ciphertext
    sa.Column("refresh_token", sa.Text),  # ciphertext
    sa.Column("expires_at", sa.DateTime),
    sa.Column("scopes", ARRAY(sa.Text)),
    sa.Column("created_at", sa.DateTime, server_default=NOW),
    sa.Column("updated_at", sa.DateTime, server_default=NOW),
)
sa.Index("hubspot_integrations_workspace_key", hubspot_integrations.c.workspace_id, unique=True)
sa.Index("hubspot_integrations_hub_idx", hubspot_integrations.c.hub_id)

hubspot_field_mappings = sa.Table(
    "hubspot_field_mappings",
    metadata,
    uuid_pk(),
    workspace_fk(cascade=True),
    sa.Column("coldcopy_field", sa.Text, nullable=False),
    sa.Column("hubspot_property", sa.Text, nullable=False),
    sa.Column("direction", sa.Text),
    sa.Column("transform_function", sa.Text),
    sa.Column("created_at", sa.DateTime, server_default=NOW),
    # Beyond the seed (0002): which HubSpot object the mapping is for, and its own conflict policy.
    sa.Column("object_type", sa.Text, nullable=False, server_default="contact"),
    sa.Column("conflict_policy", sa.Text),
    sa.CheckConstraint(
        "direction IN ('to_hubspot', 'from_hubspot', 'bidirectional')",
        name="hubspot_field_mappings_direction_check",
    ),
)

hubspot_sync_status = sa.Table(
    "hubspot_sync_status",
    metadata,
    uuid_pk(),
    workspace_fk(cascade=True),
    sa.Column("entity_type", sa.Text),
    sa.Column("entity_id", UUID(as_uuid=True)),
    sa.Column("hubspot_id", sa.Text),
    sa.Column("last_synced_at", sa.DateTime),
    sa.Column("sync_hash", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", sa.DateTime, server_default=NOW),
    sa.Column("updated_at", sa.DateTime, server_default=NOW),
    # Beyond the seed (0002): the last agreed canonical values (their hash is `sync_hash`), and the retry
    # index: failed attempts so far, and when the row was given up on ("dead") for a human to look at.
    sa.Column("agreed", JSONB),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("dead_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(
        "entity_type IN ('contact', 'company', 'activity')", name="hubspot_sync_status_entity_type_check"
    ),
    sa.CheckConstraint("status IN ('pending', 'synced', 'error')", name="hubspot_sync_status_status_check"),
)
sa.Index(
    "hubspot_sync_status_entity_key",
    hubspot_sync_status.c.workspace_id,
    hubspot_sync_status.c.entity_type,
    hubspot_sync_status.c.entity_id,
    unique=True,
)
# The retry index: rows that failed and are retried on every run, whatever their hash says.
sa.Index(
    "hubspot_sync_status_retry_idx",
    hubspot_sync_status.c.workspace_id,
    hubspot_sync_status.c.entity_type,
    postgresql_where=sa.text("status = 'error' AND dead_at IS NULL"),
)
# Rows given up on, counted by GET /metrics at every scrape (0006).
sa.Index(
    "hubspot_sync_status_dead_idx",
    hubspot_sync_status.c.workspace_id,
    hubspot_sync_status.c.entity_type,
    postgresql_where=sa.text("dead_at IS NOT NULL"),
)
sa.Index(
    "hubspot_sync_status_hubspot_idx", hubspot_sync_status.c.workspace_id, hubspot_sync_status.c.hubspot_id
)

hubspot_activity_log = sa.Table(
    "hubspot_activity_log",
    metadata,
    uuid_pk(),
    workspace_fk(cascade=True),
    # ON DELETE SET NULL since 0005: a deleted lead's rows stay (they hold ids, no content).
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="SET NULL")),
    sa.Column("hubspot_contact_id", sa.Text),
    sa.Column("activity_type", sa.Text),
    sa.Column("activity_data", JSONB),
    sa.Column("synced_at", sa.DateTime, server_default=NOW),
    # Beyond the seed (0005): the email event logged (one row each), the HubSpot object written for it, and
    # the row's status: `in_flight` is written before an engagement is created (it has no idempotency key,
    # so a crash leaves this row to find it by), `logged` once HubSpot has it, `skipped` when the workspace
    # chose to write nothing for it.
    sa.Column("email_event_id", UUID(as_uuid=True), sa.ForeignKey("email_events.id", ondelete="SET NULL")),
    sa.Column("status", sa.Text, nullable=False, server_default="logged"),
    sa.Column("hubspot_object_type", sa.Text),
    sa.Column("hubspot_object_id", sa.Text),
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
    sa.Column("run_id", sa.Text),
    sa.CheckConstraint(
        "status IN ('in_flight', 'logged', 'skipped')", name="hubspot_activity_log_status_check"
    ),
    sa.CheckConstraint(
        "hubspot_object_type IN ('email', 'note', 'timeline_event')",
        name="hubspot_activity_log_object_type_check",
    ),
)
sa.Index("hubspot_activity_log_event_key", hubspot_activity_log.c.email_event_id, unique=True)
sa.Index(
    "hubspot_activity_log_workspace_idx",
    hubspot_activity_log.c.workspace_id,
    hubspot_activity_log.c.synced_at,
)
sa.Index(
    "hubspot_activity_log_in_flight_idx",
    hubspot_activity_log.c.workspace_id,
    postgresql_where=sa.text("status = 'in_flight'"),
)

# Beyond the seed (0009): a threshold and a per-lead cooldown; deleting a trigger sets deleted_at (a soft
# delete, so its execution history still says what fired); a deleted workspace's triggers go with it.
hubspot_workflow_triggers = sa.Table(
    "hubspot_workflow_triggers",
    metadata,
    uuid_pk(),
    workspace_fk(cascade=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, server_default=sa.text("true")),
    sa.Column("event_type", sa.String(50), nullable=False),
    sa.Column("conditions", JSONB, server_default=sa.text("'[]'::jsonb")),
    sa.Column("actions", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("hubspot_workflow_id", sa.String(255)),
    sa.Column("property_updates", JSONB, server_default=sa.text("'[]'::jsonb")),
    sa.Column("created_at", sa.DateTime, server_default=NOW),
    sa.Column("updated_at", sa.DateTime, server_default=NOW),
    sa.Column("threshold", sa.Integer),
    sa.Column("cooldown_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("threshold BETWEEN 1 AND 100", name="hubspot_workflow_triggers_threshold_check"),
    sa.CheckConstraint("cooldown_minutes >= 0", name="hubspot_workflow_triggers_cooldown_check"),
    sa.CheckConstraint(
        "event_type IN ('high_engagement', 'positive_reply', 'unsubscribe', 'email_opened', 'email_clicked', "
        "'email_replied', 'email_bounced', 'score_changed')",
        name="hubspot_workflow_triggers_event_type_check",
    ),
)
sa.Index(
    "hubspot_workflow_triggers_live_idx",
    hubspot_workflow_triggers.c.workspace_id,
    hubspot_workflow_triggers.c.event_type,
    postgresql_where=sa.text("deleted_at IS NULL"),
)

# Beyond the seed (0009): unique per (trigger, event_key); attempts, retry time, a claim that runs out, and
# per action what HubSpot or the receiver answered. A deleted lead's executions stay (lead_id SET NULL).
hubspot_workflow_executions = sa.Table(
    "hubspot_workflow_executions",
    metadata,
    uuid_pk(),
    workspace_fk(cascade=True),
    sa.Column(
        "trigger_id",
        UUID(as_uuid=True),
        sa.ForeignKey("hubspot_workflow_triggers.id", ondelete="SET NULL"),
    ),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("event_type", sa.String(50), nullable=False),
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="SET NULL")),
    sa.Column("hubspot_contact_id", sa.String(255)),
    sa.Column("execution_time", sa.DateTime, server_default=NOW),
    sa.Column("status", sa.String(50), nullable=False, server_default="pending"),
    sa.Column("error_message", sa.Text),
    sa.Column("metadata", JSONB, server_default=sa.text("'{}'::jsonb")),
    sa.Column("event_key", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("response", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(
        "status IN ('pending', 'success', 'failed', 'skipped')",
        name="hubspot_workflow_executions_status_check",
    ),
)
sa.Index(
    "hubspot_workflow_executions_event_key",
    hubspot_workflow_executions.c.trigger_id,
    hubspot_workflow_executions.c.event_key,
    unique=True,
)
sa.Index(
    "hubspot_workflow_executions_due_idx",
    hubspot_workflow_executions.c.workspace_id,
    hubspot_workflow_executions.c.next_attempt_at,
    postgresql_where=sa.text("status = 'pending'"),
)
sa.Index(
    "hubspot_workflow_executions_workspace_idx",
    hubspot_workflow_executions.c.workspace_id,
    hubspot_workflow_executions.c.created_at,
)
# Failed executions of the last minutes, read by the trigger_failed alert rule (0006).
sa.Index(
    "hubspot_workflow_executions_failed_idx",
    hubspot_workflow_executions.c.execution_time,
    postgresql_where=sa.text("status = 'failed'"),
)

# Per trigger and lead (0009): is the threshold armed, when did the trigger last fire (its cooldown).
hubspot_workflow_trigger_leads = sa.Table(
    "hubspot_workflow_trigger_leads",
    metadata,
    sa.Column(
        "trigger_id",
        UUID(as_uuid=True),
        sa.ForeignKey("hubspot_workflow_triggers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("armed", sa.Boolean),
    sa.Column("last_fired_at", sa.DateTime(timezone=True)),
)
