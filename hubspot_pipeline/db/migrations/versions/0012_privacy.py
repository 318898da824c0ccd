"""Privacy: erasures, and what deleting a lead or a workspace does to the rows that refer to it.

- `privacy_erasures`: one row per person erased from a workspace (GDPR erasure asked by ColdCopy, or a
  HubSpot `contact.privacyDeletion`). It keeps no personal data: `email_key` is a keyed hash (HMAC-SHA256
  with PRIVACY_HASH_SECRET) of the lower-cased email, so the sync can refuse to re-create the person on
  either side without knowing who it was; `lead_keys` are keyed hashes of the erased lead ids (a repeated
  request by lead id is then known as already done); `hubspot_ids` are the HubSpot records deleted (ids of
  records that no longer exist), kept so a privacyDeletion for one of them is known as this erasure and a
  failed HubSpot call can be retried. Unique per (workspace, email_key): a second request is a no-op.
- **Deleting a lead** (a hard delete by ColdCopy, or an erasure), table by table:
  email_messages, email_events, engagement_events, lead_engagement, hubspot_workflow_trigger_leads:
  CASCADE (unchanged: the person's content and state of nothing); hubspot_activity_log and
  hubspot_workflow_executions: SET NULL (unchanged: ids, statuses and HubSpot's answers, which say what was
  written to HubSpot; an erasure deletes or scrubs them itself); lead_digests: deleted by the new trigger
  `leads_forget_digest` (a digest of a gone lead is never read again). No foreign key is added to the
  tables the sync records in one transaction (lead_digests, sync_conflicts, hubspot_sync_status,
  lead_changes): a lead deleted while a run is under way would make the run's whole record fail. The outbox
  keeps its `delete` row and the pair state its tombstone (so the contact is not pulled back as a new lead);
  conflicts keep their history until the retention purge clears their values; an erasure deletes them all.
- **Deleting a workspace**: the seed's foreign keys without ON DELETE (integrations, mappings, sync status,
  activity log, webhook events) now CASCADE, so a workspace can be deleted at all; the audit log keeps its
  rows (SET NULL): who did what stays on record.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CASCADED = (
    "hubspot_integrations",
    "hubspot_field_mappings",
    "hubspot_sync_status",
    "hubspot_activity_log",
    "webhook_events",
)


def _workspace_fk(table: str, on_delete: str) -> str:
    return (
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_workspace_id_fkey, "
        f"ADD CONSTRAINT {table}_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)"
        f"{on_delete};\n"
    )


UPGRADE = (
    """
CREATE TABLE privacy_erasures (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email_key TEXT NOT NULL,
  lead_keys TEXT[] NOT NULL DEFAULT '{}',
  hubspot_ids TEXT[] NOT NULL DEFAULT '{}',
  source TEXT NOT NULL CONSTRAINT privacy_erasures_source_check CHECK (source IN ('coldcopy', 'hubspot')),
  hubspot_status TEXT NOT NULL CONSTRAINT privacy_erasures_hubspot_status_check
    CHECK (hubspot_status IN ('pending', 'deleted', 'not_found', 'deleted_by_hubspot', 'not_connected', 'failed')),
  requested_by TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 1,
  erased_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX privacy_erasures_email_key ON privacy_erasures (workspace_id, email_key);
CREATE INDEX privacy_erasures_lead_keys_idx ON privacy_erasures USING gin (lead_keys);
CREATE INDEX privacy_erasures_hubspot_ids_idx ON privacy_erasures USING gin (hubspot_ids);

CREATE FUNCTION forget_lead_digest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM lead_digests WHERE lead_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER leads_forget_digest AFTER DELETE ON leads FOR EACH ROW EXECUTE FUNCTION forget_lead_digest();
DELETE FROM lead_digests d WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = d.lead_id);
"""
    + "".join(_workspace_fk(table, " ON DELETE CASCADE") for table in CASCADED)
    + _workspace_fk("audit_log", " ON DELETE SET NULL")
)

DOWNGRADE = """
DROP TRIGGER leads_forget_digest ON leads;
DROP FUNCTION forget_lead_digest();
DROP TABLE privacy_erasures;
""" + "".join(_workspace_fk(table, "") for table in (*CASCADED, "audit_log"))


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
