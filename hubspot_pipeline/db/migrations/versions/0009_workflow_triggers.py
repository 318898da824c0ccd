"""Workflow triggers: the seed's two tables made usable, and what a trigger remembers of each lead.

- `hubspot_workflow_triggers` gain a threshold (high_engagement), a per-lead cooldown and `deleted_at`.
  **Deleting a trigger is a soft delete**: the row stays (its name and definition, so its execution history
  still says what fired and why), it is never evaluated again, and GET /workflows no longer lists it. ON
  DELETE SET NULL on the executions' `trigger_id` would keep the rows but lose which trigger they belonged
  to, and would take the (trigger, event) unique key with it (NULLs never conflict), so a trigger re-created
  by a restore could act twice. The foreign key still says ON DELETE SET NULL, for the one hard delete
  there is: a workspace's, whose rows all go (workspace_id ON DELETE CASCADE on both tables).
- `hubspot_workflow_executions`: one row per (trigger, event), unique on (trigger_id, event_key), with
  status pending / success / failed / skipped, the error (`error_message`), what HubSpot or the receiver
  answered (`response`, per action), attempts, when to try again, and a claim (`claimed_until`) so that one
  process at a time acts on a row and a killed one's claim runs out. **A deleted lead's executions stay**
  (lead_id ON DELETE SET NULL): they hold ids, statuses and HubSpot's answers, no personal data, and they
  are what says the contact was enrolled.
- `hubspot_workflow_trigger_leads`: per trigger and lead, whether its threshold is armed and when it last
  fired (cooldowns). A deleted lead's or trigger's rows go with it (CASCADE): state of nothing.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EVENT_TYPES = (
    "'high_engagement', 'positive_reply', 'unsubscribe', 'email_opened', 'email_clicked', 'email_replied', "
    "'email_bounced', 'score_changed'"
)

UPGRADE = f"""
ALTER TABLE hubspot_workflow_triggers
  DROP CONSTRAINT hubspot_workflow_triggers_workspace_id_fkey,
  ADD CONSTRAINT hubspot_workflow_triggers_workspace_id_fkey
    FOREIGN KEY (workspace_id) REFERENCES workspaces(id) ON DELETE CASCADE,
  ADD COLUMN threshold INTEGER CONSTRAINT hubspot_workflow_triggers_threshold_check
    CHECK (threshold BETWEEN 1 AND 100),
  ADD COLUMN cooldown_minutes INTEGER NOT NULL DEFAULT 0
    CONSTRAINT hubspot_workflow_triggers_cooldown_check CHECK (cooldown_minutes >= 0),
  ADD COLUMN deleted_at TIMESTAMPTZ,
  ADD CONSTRAINT hubspot_workflow_triggers_event_type_check CHECK (event_type IN ({EVENT_TYPES}));
CREATE INDEX hubspot_workflow_triggers_live_idx ON hubspot_workflow_triggers (workspace_id, event_type)
  WHERE deleted_at IS NULL;
COMMENT ON COLUMN hubspot_workflow_triggers.deleted_at IS
  'soft delete: a deleted trigger never fires again and keeps its execution history';

ALTER TABLE hubspot_workflow_executions
  DROP CONSTRAINT hubspot_workflow_executions_workspace_id_fkey,
  ADD CONSTRAINT hubspot_workflow_executions_workspace_id_fkey
    FOREIGN KEY (workspace_id) REFERENCES workspaces(id) ON DELETE CASCADE,
  DROP CONSTRAINT hubspot_workflow_executions_trigger_id_fkey,
  ADD CONSTRAINT hubspot_workflow_executions_trigger_id_fkey
    FOREIGN KEY (trigger_id) REFERENCES hubspot_workflow_triggers(id) ON DELETE SET NULL,
  DROP CONSTRAINT hubspot_workflow_executions_lead_id_fkey,
  ADD CONSTRAINT hubspot_workflow_executions_lead_id_fkey
    FOREIGN KEY (lead_id) REFERENCES leads(id) ON DELETE SET NULL,
  ADD COLUMN event_key TEXT,
  ADD COLUMN occurred_at TIMESTAMPTZ,
  ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at TIMESTAMPTZ,
  ADD COLUMN claimed_until TIMESTAMPTZ,
  ADD COLUMN response JSONB NOT NULL DEFAULT '{{}}'::jsonb,
  ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  ADD COLUMN finished_at TIMESTAMPTZ;
UPDATE hubspot_workflow_executions SET event_key = event_id, status = coalesce(status, 'pending');
ALTER TABLE hubspot_workflow_executions
  ALTER COLUMN event_key SET NOT NULL,
  ALTER COLUMN status SET NOT NULL,
  ADD CONSTRAINT hubspot_workflow_executions_status_check
    CHECK (status IN ('pending', 'success', 'failed', 'skipped'));
CREATE UNIQUE INDEX hubspot_workflow_executions_event_key ON hubspot_workflow_executions (trigger_id, event_key);
CREATE INDEX hubspot_workflow_executions_due_idx ON hubspot_workflow_executions (workspace_id, next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX hubspot_workflow_executions_workspace_idx ON hubspot_workflow_executions (workspace_id, created_at);
COMMENT ON COLUMN hubspot_workflow_executions.event_key IS
  'what makes two events the same: email:<email event id>, engagement:<id>, reply:<message id>';
COMMENT ON COLUMN hubspot_workflow_executions.response IS
  'per action (0:enroll, 1:update_properties, ...): its state and what HubSpot or the receiver answered';

CREATE TABLE hubspot_workflow_trigger_leads (
  trigger_id UUID NOT NULL REFERENCES hubspot_workflow_triggers(id) ON DELETE CASCADE,
  lead_id UUID NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  armed BOOLEAN,
  last_fired_at TIMESTAMPTZ,
  PRIMARY KEY (trigger_id, lead_id)
);
COMMENT ON TABLE hubspot_workflow_trigger_leads IS
  'per trigger and lead: threshold armed (re-armed below it) and when it last fired (cooldown)';
"""

DOWNGRADE = """
DROP TABLE hubspot_workflow_trigger_leads;
DROP INDEX hubspot_workflow_executions_workspace_idx;
DROP INDEX hubspot_workflow_executions_due_idx;
DROP INDEX hubspot_workflow_executions_event_key;
ALTER TABLE hubspot_workflow_executions
  DROP CONSTRAINT hubspot_workflow_executions_status_check,
  ALTER COLUMN status DROP NOT NULL,
  DROP COLUMN finished_at,
  DROP COLUMN created_at,
  DROP COLUMN response,
  DROP COLUMN claimed_until,
  DROP COLUMN next_attempt_at,
  DROP COLUMN attempts,
  DROP COLUMN occurred_at,
  DROP COLUMN event_key,
  DROP CONSTRAINT hubspot_workflow_executions_lead_id_fkey,
  ADD CONSTRAINT hubspot_workflow_executions_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads(id),
  DROP CONSTRAINT hubspot_workflow_executions_trigger_id_fkey,
  ADD CONSTRAINT hubspot_workflow_executions_trigger_id_fkey
    FOREIGN KEY (trigger_id) REFERENCES hubspot_workflow_triggers(id),
  DROP CONSTRAINT hubspot_workflow_executions_workspace_id_fkey,
  ADD CONSTRAINT hubspot_workflow_executions_workspace_id_fkey
    FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
DROP INDEX hubspot_workflow_triggers_live_idx;
ALTER TABLE hubspot_workflow_triggers
  DROP CONSTRAINT hubspot_workflow_triggers_event_type_check,
  DROP COLUMN deleted_at,
  DROP COLUMN cooldown_minutes,
  DROP COLUMN threshold,
  DROP CONSTRAINT hubspot_workflow_triggers_workspace_id_fkey,
  ADD CONSTRAINT hubspot_workflow_triggers_workspace_id_fkey
    FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
