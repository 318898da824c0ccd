"""`email_messages_decided_idx` (0014) holds the decided replies only (`intent_classified_at IS NOT NULL`).

Over every reply (`WHERE direction = 'received'`), the planner also took it for "a reply" in the same-day dbt
build's lookup of each changed lead's last reply (`direction = 'received' AND intent IS NOT NULL AND lead_id =
...`), ANDing a scan of the whole index (124,069 entries at 1,000,000 leads) with the lead index, once per
changed lead: 84 s of an incremental build after 10,000 new events, 5.1 s with this predicate, which that
lookup does not imply. The build's "decided since" scope (`intent_classified_at > ...`) implies it and keeps
its index scan.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX email_messages_decided_idx")
    op.execute(
        "CREATE INDEX email_messages_decided_idx ON email_messages (intent_classified_at)"
        " WHERE direction = 'received' AND intent_classified_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX email_messages_decided_idx")
    op.execute(
        "CREATE INDEX email_messages_decided_idx ON email_messages (intent_classified_at)"
        " WHERE direction = 'received'"
    )
