"""What the operator's view needs of the schema: a workspace's slug names its Dagster partition and its runs'
history, so it is a valid partition key (none of the characters Dagster reserves: `|` and `,` separate
multi-partition keys and backfill selections, `[` `]` `...` and control characters are refused) and it
cannot change once created. And `hubspot_sync_config.schedule_cron` goes: it was stored but never used (the
schedule is every 15 minutes, with sensors for real-time changes).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE hubspot_sync_config DROP COLUMN schedule_cron;

ALTER TABLE workspaces ADD CONSTRAINT workspaces_slug_partition_key_check
  CHECK (slug <> '' AND slug !~ '[|,\[\]]' AND strpos(slug, '...') = 0 AND slug !~ '[[:cntrl:]]');

CREATE FUNCTION workspaces_slug_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the slug of workspace % cannot change (% -> %): it names the workspace''s Dagster partition and the history of its runs', OLD.id, OLD.slug, NEW.slug
    USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER workspaces_slug_immutable
  BEFORE UPDATE OF slug ON workspaces
  FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug)
  EXECUTE FUNCTION workspaces_slug_is_immutable();
"""

DOWNGRADE = """
DROP TRIGGER workspaces_slug_immutable ON workspaces;
DROP FUNCTION workspaces_slug_is_immutable();
ALTER TABLE workspaces DROP CONSTRAINT workspaces_slug_partition_key_check;
ALTER TABLE hubspot_sync_config ADD COLUMN schedule_cron TEXT NOT NULL DEFAULT '*/15 * * * *';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
