"""ColdCopy's own tables: the application side of the sync, kept minimal but realistic."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from hubspot_pipeline.db.tables.base import NOW, metadata, uuid_pk, workspace_fk

LEAD_STATUSES = ("new", "contacted", "replied", "interested", "not_interested", "unsubscribed", "bounced")
EMAIL_EVENT_TYPES = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed")
MESSAGE_DIRECTIONS = ("sent", "received")
REPLY_INTENTS = (
    "interested",
    "not_interested",
    "out_of_office",
    "unsubscribe_request",
    "referral",
    "neutral",
)
INTENT_SOURCES = ("coldcopy", "classifier")

workspaces = sa.Table(
    "workspaces",
    metadata,
    uuid_pk(),
    sa.Column("name", sa.Text, nullable=False),
    # The workspace's Dagster partition key: immutable (a trigger refuses a change) and free of the
    # characters Dagster reserves in partition keys. Migration 0004.
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(
        r"slug <> '' AND slug !~ '[|,\[\]]' AND strpos(slug, '...') = 0 AND slug !~ '[[:cntrl:]]'",
        name="workspaces_slug_partition_key_check",
    ),
)

campaigns = sa.Table(
    "campaigns",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

# ColdCopy's companies, one per domain of a workspace (migration 0013): what company mappings read and
# HubSpot-side company edits write. Its id is sync.core.companies.company_id(workspace, domain).
companies = sa.Table(
    "companies",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("domain", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("custom_fields", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("domain <> ''", name="companies_domain_not_empty"),
    sa.UniqueConstraint("workspace_id", "domain", name="companies_workspace_domain_key"),
)

leads = sa.Table(
    "leads",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("company", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("website", sa.Text),
    sa.Column("custom_fields", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("status", sa.Text, nullable=False, server_default="new"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
    # Set by the sync from the lead's domain; a deleted company leaves its leads without one.
    sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="SET NULL")),
    sa.CheckConstraint(f"status IN {LEAD_STATUSES!r}", name="leads_status_check"),
    sa.CheckConstraint("email <> ''", name="leads_email_not_empty"),
)
# Email is unique per workspace, whatever its case (HubSpot compares emails case-insensitively too).
sa.Index("leads_workspace_email_key", leads.c.workspace_id, sa.func.lower(leads.c.email), unique=True)
sa.Index("leads_workspace_updated_idx", leads.c.workspace_id, leads.c.updated_at)
sa.Index("leads_company_idx", leads.c.company_id)

# Each message ColdCopy sent (a campaign step) or received (a reply), as the mail server saw it. Events refer
# to the message they are about. A reply's intent (interested, not interested, ...) is stored on the received
# message by the scoring (0005).
email_messages = sa.Table(
    "email_messages",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("campaign_id", UUID(as_uuid=True), sa.ForeignKey("campaigns.id", ondelete="SET NULL")),
    sa.Column("campaign_step", sa.Integer),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("message_id_header", sa.Text, nullable=False),  # <...@...>, angle brackets included
    sa.Column("in_reply_to_header", sa.Text),
    sa.Column("from_address", sa.Text, nullable=False),
    sa.Column("from_name", sa.Text),
    sa.Column("to_address", sa.Text, nullable=False),
    sa.Column("to_name", sa.Text),
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("body_text", sa.Text),
    sa.Column("body_html", sa.Text),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("intent", sa.Text),
    sa.Column("intent_classified_at", sa.DateTime(timezone=True)),
    # Set with the intent when the reply is stored (0007): how sure, who decided (ColdCopy's own judgement or
    # the classifier), and the rule that decided (scoring.intent.Reason).
    sa.Column("intent_confidence", sa.Float(precision=53)),
    sa.Column("intent_source", sa.Text),
    sa.Column("intent_reason", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(f"direction IN {MESSAGE_DIRECTIONS!r}", name="email_messages_direction_check"),
    sa.CheckConstraint("campaign_step >= 1", name="email_messages_step_check"),
    sa.CheckConstraint("message_id_header <> ''", name="email_messages_message_id_not_empty"),
    sa.CheckConstraint("intent IS NULL OR direction = 'received'", name="email_messages_intent_on_replies"),
    sa.CheckConstraint(f"intent IN {REPLY_INTENTS!r}", name="email_messages_intent_check"),
    sa.CheckConstraint("intent_confidence BETWEEN 0 AND 1", name="email_messages_intent_confidence_check"),
    sa.CheckConstraint(f"intent_source IN {INTENT_SOURCES!r}", name="email_messages_intent_source_check"),
    sa.CheckConstraint(
        "(intent IS NULL) = (intent_confidence IS NULL) AND (intent IS NULL) = (intent_source IS NULL)",
        name="email_messages_intent_complete",
    ),
)
sa.Index(
    "email_messages_message_id_key",
    email_messages.c.workspace_id,
    email_messages.c.message_id_header,
    unique=True,
)
sa.Index("email_messages_lead_idx", email_messages.c.lead_id)
sa.Index(
    "email_messages_unclassified_idx",
    email_messages.c.workspace_id,
    email_messages.c.sent_at,
    postgresql_where=sa.text("direction = 'received' AND intent IS NULL"),
)
# The replies decided since a dbt build: its same-day scope (0014; decided ones only since 0015, so the
# planner never takes it for "every reply").
sa.Index(
    "email_messages_decided_idx",
    email_messages.c.intent_classified_at,
    postgresql_where=sa.text("direction = 'received' AND intent_classified_at IS NOT NULL"),
)
# The oldest undecided replies of every workspace: the reply-intent sensor's batch (0014).
sa.Index(
    "email_messages_unclassified_sent_idx",
    email_messages.c.sent_at,
    postgresql_where=sa.text("direction = 'received' AND intent IS NULL"),
)

email_events = sa.Table(
    "email_events",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("campaign_id", UUID(as_uuid=True), sa.ForeignKey("campaigns.id", ondelete="SET NULL")),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    # Beyond the first schema (0005): the message the event is about, a click's URL, a bounce's reason, and
    # the order events were recorded in (the activity sensor's cursor).
    sa.Column("message_id", UUID(as_uuid=True), sa.ForeignKey("email_messages.id", ondelete="SET NULL")),
    sa.Column("link_url", sa.Text),
    sa.Column("bounce_reason", sa.Text),
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False),
    sa.CheckConstraint(f"event_type IN {EMAIL_EVENT_TYPES!r}", name="email_events_event_type_check"),
)
sa.Index("email_events_occurred_idx", email_events.c.occurred_at)
sa.Index("email_events_lead_idx", email_events.c.lead_id)
sa.Index("email_events_seq_key", email_events.c.seq, unique=True)
# A workspace's events after its cursor (a trigger run), without walking every other workspace's (0011).
sa.Index("email_events_workspace_seq_idx", email_events.c.workspace_id, email_events.c.seq)
sa.Index("email_events_workspace_occurred_idx", email_events.c.workspace_id, email_events.c.occurred_at)
# A reply's latest `replied` event in one probe (0014).
sa.Index("email_events_message_seq_idx", email_events.c.message_id, email_events.c.seq)
