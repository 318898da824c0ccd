"""An index on email_events (workspace_id, seq): a workspace's trigger run reads its own events after its
cursor (`workflows/store/events.email_events_after` with a workspace), which without it walked the global
`seq` index past every other workspace's events. Built without CONCURRENTLY (migrations run in one
transaction): writes to email_events wait for the build, a few seconds per million rows.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX email_events_workspace_seq_idx ON email_events (workspace_id, seq)")


def downgrade() -> None:
    op.execute("DROP INDEX email_events_workspace_seq_idx")
