"""An index on the lead outbox by lead: `lead_changes (lead_id, changed_at)`.

The sync reads outbox rows by lead (store.newest_field_times dates each field in conflict under `latest`
from all of a lead's rows, the ones before the cursor too); with only (workspace_id, id) indexed, each such
read scanned the workspace's whole outbox. `changed_at` is in the key so that the newest change of a lead is
found in the index. Built with a plain CREATE INDEX inside the migration's transaction: on a large outbox, lead
writes (whose trigger inserts into lead_changes) wait while it is built.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS lead_changes_lead_idx ON lead_changes (lead_id, changed_at)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS lead_changes_lead_idx")
