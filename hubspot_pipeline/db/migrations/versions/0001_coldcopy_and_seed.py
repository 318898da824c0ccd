"""ColdCopy's tables and the six tables of the seed design.

gen_random_uuid() is built into PostgreSQL 13+. The seed tables keep the seed's columns, types, CHECK constraints and defaults exactly (TIMESTAMP without
time zone included: the project's connections run in UTC). Token columns hold Fernet ciphertext only.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """

-- ColdCopy ------------------------------------------------------------------------------------------
CREATE TABLE workspaces (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE leads (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email TEXT NOT NULL CONSTRAINT leads_email_not_empty CHECK (email <> ''),
  first_name TEXT,
  last_name TEXT,
  company TEXT,
  title TEXT,
  phone TEXT,
  website TEXT,
  custom_fields JSONB NOT NULL DEFAULT '{}'::jsonb,
  status TEXT NOT NULL DEFAULT 'new' CONSTRAINT leads_status_check
    CHECK (status IN ('new', 'contacted', 'replied', 'interested', 'not_interested', 'unsubscribed', 'bounced')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX leads_workspace_email_key ON leads (workspace_id, lower(email));
CREATE INDEX leads_workspace_updated_idx ON leads (workspace_id, updated_at);

CREATE TABLE email_events (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  lead_id UUID NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
  campaign_id UUID REFERENCES campaigns(id) ON DELETE SET NULL,
  event_type TEXT NOT NULL CONSTRAINT email_events_event_type_check
    CHECK (event_type IN ('sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'unsubscribed')),
  occurred_at TIMESTAMPTZ NOT NULL,
  metadata JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX email_events_occurred_idx ON email_events (occurred_at);
CREATE INDEX email_events_lead_idx ON email_events (lead_id);

-- The seed design ---------------------------------------------------------------------------------
CREATE TABLE hubspot_integrations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID REFERENCES workspaces(id),
  hub_id TEXT NOT NULL,
  access_token TEXT,
  refresh_token TEXT,
  expires_at TIMESTAMP,
  scopes TEXT[],
  created_at TIMESTAMP DEFAULT NOW(),
  updated_at TIMESTAMP DEFAULT NOW()
);
COMMENT ON COLUMN hubspot_integrations.access_token IS 'Fernet ciphertext, never the clear token';
COMMENT ON COLUMN hubspot_integrations.refresh_token IS 'Fernet ciphertext, never the clear token';
CREATE UNIQUE INDEX hubspot_integrations_workspace_key ON hubspot_integrations (workspace_id);
CREATE INDEX hubspot_integrations_hub_idx ON hubspot_integrations (hub_id);

CREATE TABLE hubspot_field_mappings (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID REFERENCES workspaces(id),
  coldcopy_field TEXT NOT NULL,
  hubspot_property TEXT NOT NULL,
  direction TEXT CONSTRAINT hubspot_field_mappings_direction_check
    CHECK (direction IN ('to_hubspot', 'from_hubspot', 'bidirectional')),
  transform_function TEXT,
  created_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE hubspot_sync_status (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID REFERENCES workspaces(id),
  entity_type TEXT CONSTRAINT hubspot_sync_status_entity_type_check
    CHECK (entity_type IN ('contact', 'company', 'activity')),
  entity_id UUID,
  hubspot_id TEXT,
  last_synced_at TIMESTAMP,
  sync_hash TEXT,
  status TEXT CONSTRAINT hubspot_sync_status_status_check CHECK (status IN ('pending', 'synced', 'error')),
  error_message TEXT,
  created_at TIMESTAMP DEFAULT NOW(),
  updated_at TIMESTAMP DEFAULT NOW()
);
CREATE UNIQUE INDEX hubspot_sync_status_entity_key ON hubspot_sync_status (workspace_id, entity_type, entity_id);
CREATE INDEX hubspot_sync_status_hubspot_idx ON hubspot_sync_status (workspace_id, hubspot_id);

CREATE TABLE hubspot_activity_log (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID REFERENCES workspaces(id),
  lead_id UUID REFERENCES leads(id),
  hubspot_contact_id TEXT,
  activity_type TEXT,
  activity_data JSONB,
  synced_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE hubspot_workflow_triggers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID REFERENCES workspaces(id),
  name VARCHAR(255) NOT NULL,
  description TEXT,
  enabled BOOLEAN DEFAULT true,
  event_type VARCHAR(50) NOT NULL,
  conditions JSONB DEFAULT '[]'::jsonb,
  actions JSONB NOT NULL DEFAULT '[]'::jsonb,
  hubspot_workflow_id VARCHAR(255),
  property_updates JSONB DEFAULT '[]'::jsonb,
  created_at TIMESTAMP DEFAULT NOW(),
  updated_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE hubspot_workflow_executions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID REFERENCES workspaces(id),
  trigger_id UUID REFERENCES hubspot_workflow_triggers(id),
  event_id VARCHAR(255) NOT NULL,
  event_type VARCHAR(50) NOT NULL,
  lead_id UUID REFERENCES leads(id),
  hubspot_contact_id VARCHAR(255),
  execution_time TIMESTAMP DEFAULT NOW(),
  status VARCHAR(50) DEFAULT 'pending',
  error_message TEXT,
  metadata JSONB DEFAULT '{}'::jsonb
);
"""

DOWNGRADE = """
DROP TABLE hubspot_workflow_executions;
DROP TABLE hubspot_workflow_triggers;
DROP TABLE hubspot_activity_log;
DROP TABLE hubspot_sync_status;
DROP TABLE hubspot_field_mappings;
DROP TABLE hubspot_integrations;
DROP TABLE email_events;
DROP TABLE leads;
DROP TABLE campaigns;
DROP TABLE workspaces;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
