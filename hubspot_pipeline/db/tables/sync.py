"""State the sync keeps beyond the seed tables: per-workspace config, the lead outbox, conflicts, cursors.

Owned by the sync (hubspot_pipeline/sync, defs/contacts). Migration: 0002_sync_state.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from hubspot_pipeline.db.tables.base import NOW, metadata, workspace_fk

CONFLICT_POLICIES = ("latest", "coldcopy_wins", "hubspot_wins")
ARCHIVED_CONTACT_ACTIONS = ("unlink", "delete_lead", "keep")
CONNECTION_STATUSES = ("connected", "needs_reconnect", "disconnected")
ACTIVITY_CONTENT_LEVELS = ("full", "subject", "metadata")
TIMELINE_FALLBACKS = ("notes", "skip")

# One row per workspace: whether and how it syncs, and the state of its HubSpot connection.
hubspot_sync_config = sa.Table(
    "hubspot_sync_config",
    metadata,
    sa.Column(
        "workspace_id",
        UUID(as_uuid=True),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.text("true")),
    sa.Column("conflict_policy", sa.Text, nullable=False, server_default="latest"),
    sa.Column("sync_contacts", sa.Boolean, nullable=False, server_default=sa.text("true")),
    sa.Column("sync_companies", sa.Boolean, nullable=False, server_default=sa.text("true")),
    sa.Column("sync_activities", sa.Boolean, nullable=False, server_default=sa.text("true")),
    sa.Column("on_hubspot_archive", sa.Text, nullable=False, server_default="unlink"),
    sa.Column("connection_status", sa.Text, nullable=False, server_default="connected"),
    sa.Column("connection_error", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    # Email activity (0005): which event types are logged, how much of a message goes to HubSpot, what
    # replaces timeline events on a private-app portal, and since when events are logged (first connect).
    sa.Column(
        "activity_event_types",
        ARRAY(sa.Text),
        nullable=False,
        server_default=sa.text("'{sent,opened,clicked,replied,bounced,unsubscribed}'"),
    ),
    sa.Column("activity_content", sa.Text, nullable=False, server_default="full"),
    sa.Column("activity_timeline_fallback", sa.Text, nullable=False, server_default="notes"),
    sa.Column("activities_since", sa.DateTime(timezone=True)),
    # Engagement scoring (0007): points per kind of event, the decay's half-life, and the high-engagement
    # threshold used when no enabled workflow trigger names one. Validated by PUT /config.
    sa.Column(
        "engagement_weights",
        JSONB,
        nullable=False,
        server_default=sa.text(
            """'{"open": 2, "click": 5, "reply": 15, "positive_reply": 40, "bounce": -20, "unsubscribe": -60}'::jsonb"""
        ),
    ),
    sa.Column("engagement_half_life_days", sa.Float(precision=53), nullable=False, server_default="14"),
    sa.Column("engagement_high_threshold", sa.Integer, nullable=False, server_default="60"),
    sa.CheckConstraint(f"conflict_policy IN {CONFLICT_POLICIES!r}", name="hubspot_sync_config_policy_check"),
    sa.CheckConstraint(
        f"on_hubspot_archive IN {ARCHIVED_CONTACT_ACTIONS!r}", name="hubspot_sync_config_archive_check"
    ),
    sa.CheckConstraint(
        f"connection_status IN {CONNECTION_STATUSES!r}", name="hubspot_sync_config_connection_check"
    ),
    sa.CheckConstraint(
        "activity_event_types <@ '{sent,delivered,opened,clicked,replied,bounced,unsubscribed}'::text[]",
        name="hubspot_sync_config_activity_types_check",
    ),
    sa.CheckConstraint(
        f"activity_content IN {ACTIVITY_CONTENT_LEVELS!r}", name="hubspot_sync_config_activity_content_check"
    ),
    sa.CheckConstraint(
        f"activity_timeline_fallback IN {TIMELINE_FALLBACKS!r}",
        name="hubspot_sync_config_timeline_fallback_check",
    ),
    sa.CheckConstraint("engagement_half_life_days > 0", name="hubspot_sync_config_half_life_check"),
    sa.CheckConstraint(
        "engagement_high_threshold BETWEEN 1 AND 100", name="hubspot_sync_config_high_threshold_check"
    ),
)

# The lead outbox: one row per insert/update/delete of a lead, written by a trigger on `leads`. Writes made
# under the sync's session setting (db.connection.sync_writer) are skipped, so the sync never echoes itself.
lead_changes = sa.Table(
    "lead_changes",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("lead_id", UUID(as_uuid=True), nullable=False),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("changed_fields", ARRAY(sa.Text)),
    sa.Column(
        "changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")
    ),
    sa.CheckConstraint("operation IN ('insert', 'update', 'delete')", name="lead_changes_operation_check"),
)
sa.Index("lead_changes_workspace_idx", lead_changes.c.workspace_id, lead_changes.c.id)
sa.Index("lead_changes_lead_idx", lead_changes.c.lead_id, lead_changes.c.changed_at)  # by-lead reads

# The company outbox (migration 0013): as lead_changes, for `companies`.
company_changes = sa.Table(
    "company_changes",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("company_id", UUID(as_uuid=True), nullable=False),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("changed_fields", ARRAY(sa.Text)),
    sa.Column(
        "changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")
    ),
    sa.CheckConstraint("operation IN ('insert', 'update', 'delete')", name="company_changes_operation_check"),
)
sa.Index("company_changes_workspace_idx", company_changes.c.workspace_id, company_changes.c.id)
sa.Index("company_changes_company_idx", company_changes.c.company_id, company_changes.c.changed_at)

# Every field changed on both sides with different values, with both values and what the policy decided.
sync_conflicts = sa.Table(
    "sync_conflicts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("lead_id", UUID(as_uuid=True)),
    sa.Column("hubspot_id", sa.Text),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("coldcopy_value", sa.Text),
    sa.Column("hubspot_value", sa.Text),
    sa.Column("coldcopy_changed_at", sa.DateTime(timezone=True)),
    sa.Column("hubspot_changed_at", sa.DateTime(timezone=True)),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("winner", sa.Text, nullable=False),
    sa.Column("resolved_value", sa.Text),
    sa.Column("run_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    # `contact`: lead_id is the lead's; `company`: the company's (migration 0013).
    sa.Column("object_type", sa.Text, nullable=False, server_default="contact"),
    sa.CheckConstraint("winner IN ('coldcopy', 'hubspot')", name="sync_conflicts_winner_check"),
    sa.CheckConstraint("object_type IN ('contact', 'company')", name="sync_conflicts_object_type_check"),
)
sa.Index("sync_conflicts_workspace_idx", sync_conflicts.c.workspace_id, sync_conflicts.c.created_at)

# Read positions per workspace and stream (HubSpot search cursor, outbox position, ...).
sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column(
        "workspace_id",
        UUID(as_uuid=True),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("stream", sa.Text, primary_key=True),
    sa.Column("cursor", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

# Per lead, a digest of the raw lead fields the mappings read, as PostgreSQL computes it, taken when the
# pair was last recorded as synced: a full resync asks PostgreSQL for the leads whose digest differs, so a
# million unchanged leads never leave the database.
lead_digests = sa.Table(
    "lead_digests",
    metadata,
    sa.Column("lead_id", UUID(as_uuid=True), primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("digest", sa.Text, nullable=False),
)
