"""Indexes for the replies' intents, measured at 1,000,000 leads (2,033,391 messages, 124,069 undecided replies):
the reply-intent sensor's first batch of 500 (`scoring.store.replies._pending`) ran 26 minutes, and a same-day
dbt build with nothing new read every reply.

- `email_messages_unclassified_sent_idx`: the undecided replies by `sent_at` alone. The sensor takes the oldest
  of every workspace; `email_messages_unclassified_idx` leads with the workspace, so the batch sorted every
  pending reply (2.4 s a batch at that size, for each of its 248 batches). With it: 4 ms.
- `email_events_message_seq_idx` (message_id, seq) instead of (message_id): a reply's latest `replied` event
  in one index probe. With the index on message_id alone the planner walked `email_events_seq_key` backwards
  filtering on the message (it estimated 131 events a message), minutes for a batch.
- `email_messages_decided_idx` (intent_classified_at) of the replies: `lead_engagement_scores`' same-day build
  takes the leads whose reply was decided since the previous build; without it, a scan of every message.

Built without CONCURRENTLY (migrations run in one transaction): writes to the tables wait for the build, a few
seconds per million rows.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX email_messages_unclassified_sent_idx ON email_messages (sent_at)"
        " WHERE direction = 'received' AND intent IS NULL"
    )
    op.execute("CREATE INDEX email_events_message_seq_idx ON email_events (message_id, seq)")
    op.execute("DROP INDEX email_events_message_idx")
    op.execute(
        "CREATE INDEX email_messages_decided_idx ON email_messages (intent_classified_at)"
        " WHERE direction = 'received'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX email_messages_decided_idx")
    op.execute("CREATE INDEX email_events_message_idx ON email_events (message_id)")
    op.execute("DROP INDEX email_events_message_seq_idx")
    op.execute("DROP INDEX email_messages_unclassified_sent_idx")
