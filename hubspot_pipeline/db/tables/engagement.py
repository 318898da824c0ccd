"""What the engagement scoring records: the events the workflow-trigger sensor reads by cursor, and each
lead's published engagement (what the contact sync reads as engagement fields).
Written by hubspot_pipeline/scoring (store side); migration: 0007_engagement."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from hubspot_pipeline.db.tables.base import NOW, metadata, workspace_fk
from hubspot_pipeline.db.tables.coldcopy import REPLY_INTENTS

ENGAGEMENT_EVENT_KINDS = ("score_changed", "threshold_crossed", "intent_decided")
CROSSING_DIRECTIONS = ("up", "down")

# Score changes, threshold crossings and decided intents. `id` is the reader's cursor: every insert takes a
# transaction-scoped advisory lock (a statement trigger, 0007) before drawing ids, so ids become visible in
# the order they were drawn and a reader past id N never misses an N-1 that committed late. A deleted lead's
# or message's events go with it (nothing left to enroll; an erased lead leaves no copy).
engagement_events = sa.Table(
    "engagement_events",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("old_score", sa.Integer),
    sa.Column("new_score", sa.Integer),
    sa.Column("threshold", sa.Integer),
    sa.Column("direction", sa.Text),
    sa.Column("intent", sa.Text),
    sa.Column("confidence", sa.Float(precision=53)),
    sa.Column("message_id", UUID(as_uuid=True), sa.ForeignKey("email_messages.id", ondelete="CASCADE")),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(f"kind IN {ENGAGEMENT_EVENT_KINDS!r}", name="engagement_events_kind_check"),
    sa.CheckConstraint("old_score BETWEEN 0 AND 100", name="engagement_events_old_score_check"),
    sa.CheckConstraint("new_score BETWEEN 0 AND 100", name="engagement_events_new_score_check"),
    sa.CheckConstraint("threshold BETWEEN 0 AND 100", name="engagement_events_threshold_check"),
    sa.CheckConstraint(f"direction IN {CROSSING_DIRECTIONS!r}", name="engagement_events_direction_check"),
    sa.CheckConstraint(f"intent IN {REPLY_INTENTS!r}", name="engagement_events_intent_check"),
    sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="engagement_events_confidence_check"),
    sa.CheckConstraint(
        "CASE kind"
        " WHEN 'score_changed' THEN new_score IS NOT NULL AND threshold IS NULL AND intent IS NULL"
        " WHEN 'threshold_crossed' THEN new_score IS NOT NULL AND threshold IS NOT NULL"
        " AND direction IS NOT NULL AND intent IS NULL"
        " WHEN 'intent_decided' THEN intent IS NOT NULL AND confidence IS NOT NULL AND new_score IS NULL"
        " AND threshold IS NULL END",
        name="engagement_events_fields_check",
    ),
)
sa.Index("engagement_events_workspace_idx", engagement_events.c.workspace_id, engagement_events.c.id)
sa.Index("engagement_events_lead_idx", engagement_events.c.lead_id)
sa.Index(
    "engagement_events_message_idx",
    engagement_events.c.message_id,
    postgresql_where=sa.text("message_id IS NOT NULL"),
)

# Each lead's engagement as last published from the dbt model: only changed rows are rewritten, and each
# rewrite enters the lead outbox, so the contact sync pushes a change and nothing else.
lead_engagement = sa.Table(
    "lead_engagement",
    metadata,
    sa.Column("lead_id", UUID(as_uuid=True), sa.ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("last_engaged_at", sa.DateTime(timezone=True)),
    sa.Column("last_reply_intent", sa.Text),
    sa.Column("opens_30d", sa.Integer, nullable=False, server_default="0"),
    sa.Column("clicks_30d", sa.Integer, nullable=False, server_default="0"),
    sa.Column("replies_30d", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reference_date", sa.Date, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint("score BETWEEN 0 AND 100", name="lead_engagement_score_check"),
)
sa.Index(
    "lead_engagement_workspace_score_idx", lead_engagement.c.workspace_id, lead_engagement.c.score.desc()
)
