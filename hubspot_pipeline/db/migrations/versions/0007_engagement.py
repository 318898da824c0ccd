"""Engagement: reply intent on the stored reply, the events the workflow-trigger sensor reads, the scores.

- `email_messages` gain the intent's confidence, its source (ColdCopy's own judgement or the classifier) and
  the rule that decided; `intent` is checked against the six intents.
- `engagement_events`: every score change, threshold crossing and decided intent, in the order they were
  recorded. `id` is the reader's cursor: every insert takes a transaction-scoped advisory lock (a statement
  trigger takes it, so no writer can forget it) before its ids are drawn, so inserting transactions commit one
  after the other and ids become visible in the order they were drawn. Without it, a transaction that drew
  id 10 and commits after one that drew id 11 would be skipped by a reader whose cursor already passed 11.
  `lead_id` and `message_id` say ON DELETE CASCADE: an event about a lead that no longer exists can start
  no workflow (there is no contact left to enroll), and an erased lead must leave no local copy (GDPR); an
  unread event of a deleted lead simply never reaches the sensor.
- `lead_engagement`: each lead's published engagement (score, last engaged time, last reply's intent,
  counts), what the contact sync reads as mapping sources. Written after each dbt build from its model, only
  where something changed.
- `hubspot_sync_config` gains the scoring's settings: weights per kind of event, the decay's half-life and
  the default high-engagement threshold (used when no enabled trigger gives one).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE email_messages
  ADD COLUMN intent_confidence DOUBLE PRECISION
    CONSTRAINT email_messages_intent_confidence_check CHECK (intent_confidence BETWEEN 0 AND 1),
  ADD COLUMN intent_source TEXT
    CONSTRAINT email_messages_intent_source_check CHECK (intent_source IN ('coldcopy', 'classifier')),
  ADD COLUMN intent_reason TEXT,
  ADD CONSTRAINT email_messages_intent_check CHECK (
    intent IN ('interested', 'not_interested', 'out_of_office', 'unsubscribe_request', 'referral', 'neutral')
  ),
  ADD CONSTRAINT email_messages_intent_complete CHECK (
    (intent IS NULL) = (intent_confidence IS NULL) AND (intent IS NULL) = (intent_source IS NULL)
  );
COMMENT ON COLUMN email_messages.intent_source IS
  'coldcopy: a user''s lead status or the event''s metadata decided; classifier: scoring.classify_reply';
COMMENT ON COLUMN email_messages.intent_reason IS 'the rule that decided (scoring.intent.Reason), for grouping';

CREATE TABLE engagement_events (
  id BIGSERIAL PRIMARY KEY,
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  lead_id UUID NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
  kind TEXT NOT NULL
    CONSTRAINT engagement_events_kind_check CHECK (kind IN ('score_changed', 'threshold_crossed', 'intent_decided')),
  old_score INTEGER CONSTRAINT engagement_events_old_score_check CHECK (old_score BETWEEN 0 AND 100),
  new_score INTEGER CONSTRAINT engagement_events_new_score_check CHECK (new_score BETWEEN 0 AND 100),
  threshold INTEGER CONSTRAINT engagement_events_threshold_check CHECK (threshold BETWEEN 0 AND 100),
  direction TEXT CONSTRAINT engagement_events_direction_check CHECK (direction IN ('up', 'down')),
  intent TEXT CONSTRAINT engagement_events_intent_check CHECK (
    intent IN ('interested', 'not_interested', 'out_of_office', 'unsubscribe_request', 'referral', 'neutral')
  ),
  confidence DOUBLE PRECISION CONSTRAINT engagement_events_confidence_check CHECK (confidence BETWEEN 0 AND 1),
  message_id UUID REFERENCES email_messages(id) ON DELETE CASCADE,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT engagement_events_fields_check CHECK (
    CASE kind
      WHEN 'score_changed' THEN new_score IS NOT NULL AND threshold IS NULL AND intent IS NULL
      WHEN 'threshold_crossed' THEN new_score IS NOT NULL AND threshold IS NOT NULL AND direction IS NOT NULL
        AND intent IS NULL
      WHEN 'intent_decided' THEN intent IS NOT NULL AND confidence IS NOT NULL AND new_score IS NULL
        AND threshold IS NULL
    END
  )
);
CREATE INDEX engagement_events_workspace_idx ON engagement_events (workspace_id, id);
CREATE INDEX engagement_events_lead_idx ON engagement_events (lead_id);
CREATE INDEX engagement_events_message_idx ON engagement_events (message_id) WHERE message_id IS NOT NULL;
COMMENT ON TABLE engagement_events IS
  'score changes, threshold crossings and decided reply intents; id is the workflow-trigger sensor''s cursor';

-- Every insert into engagement_events waits for the previous inserting transaction to end before it draws
-- ids, so ids commit in order (see the module docstring). A statement trigger runs before the rows' defaults
-- (nextval) are evaluated. The key is "HPEE"; scoring.events.INSERT_LOCK holds the same number.
CREATE FUNCTION engagement_events_insert_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1213220165);
  RETURN NULL;
END;
$$;
CREATE TRIGGER engagement_events_insert_lock BEFORE INSERT ON engagement_events
  FOR EACH STATEMENT EXECUTE FUNCTION engagement_events_insert_lock();

CREATE TABLE lead_engagement (
  lead_id UUID PRIMARY KEY REFERENCES leads(id) ON DELETE CASCADE,
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  score INTEGER NOT NULL CONSTRAINT lead_engagement_score_check CHECK (score BETWEEN 0 AND 100),
  last_engaged_at TIMESTAMPTZ,
  last_reply_intent TEXT,
  opens_30d INTEGER NOT NULL DEFAULT 0,
  clicks_30d INTEGER NOT NULL DEFAULT 0,
  replies_30d INTEGER NOT NULL DEFAULT 0,
  reference_date DATE NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX lead_engagement_workspace_score_idx ON lead_engagement (workspace_id, score DESC);
COMMENT ON TABLE lead_engagement IS
  'each lead''s published engagement, from the dbt model; what the contact sync reads as engagement fields';

ALTER TABLE hubspot_sync_config
  ADD COLUMN engagement_weights JSONB NOT NULL
    DEFAULT '{"open": 2, "click": 5, "reply": 15, "positive_reply": 40, "bounce": -20, "unsubscribe": -60}'::jsonb,
  ADD COLUMN engagement_half_life_days DOUBLE PRECISION NOT NULL DEFAULT 14
    CONSTRAINT hubspot_sync_config_half_life_check CHECK (engagement_half_life_days > 0),
  ADD COLUMN engagement_high_threshold INTEGER NOT NULL DEFAULT 60
    CONSTRAINT hubspot_sync_config_high_threshold_check CHECK (engagement_high_threshold BETWEEN 1 AND 100);
COMMENT ON COLUMN hubspot_sync_config.engagement_weights IS
  'points per event kind (open, click, reply, positive_reply, bounce, unsubscribe) before decay';
"""

DOWNGRADE = """
ALTER TABLE hubspot_sync_config DROP COLUMN engagement_weights, DROP COLUMN engagement_half_life_days,
  DROP COLUMN engagement_high_threshold;
DROP TABLE lead_engagement;
DROP TABLE engagement_events;
DROP FUNCTION engagement_events_insert_lock();
ALTER TABLE email_messages DROP CONSTRAINT email_messages_intent_complete,
  DROP CONSTRAINT email_messages_intent_check,
  DROP COLUMN intent_confidence, DROP COLUMN intent_source, DROP COLUMN intent_reason;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
