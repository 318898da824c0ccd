"""What an erasure leaves behind: no personal data, only what stops the sync from re-creating the person.
Written by hubspot_pipeline/privacy; migration: 0012_privacy."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from hubspot_pipeline.db.tables.base import NOW, metadata, uuid_pk, workspace_fk

ERASURE_SOURCES = ("coldcopy", "hubspot")
HUBSPOT_STATUSES = ("pending", "deleted", "not_found", "deleted_by_hubspot", "not_connected", "failed")

# One row per person erased from a workspace: a keyed hash of the email (never the email), keyed hashes of
# the lead ids erased, the HubSpot ids deleted, and how the HubSpot side went. A second request for the
# same email finds this row and does nothing more.
privacy_erasures = sa.Table(
    "privacy_erasures",
    metadata,
    uuid_pk(),
    workspace_fk(nullable=False, cascade=True),
    sa.Column("email_key", sa.Text, nullable=False),
    sa.Column("lead_keys", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("hubspot_ids", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("hubspot_status", sa.Text, nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("requests", sa.Integer, nullable=False, server_default="1"),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(f"source IN {ERASURE_SOURCES!r}", name="privacy_erasures_source_check"),
    sa.CheckConstraint(
        f"hubspot_status IN {HUBSPOT_STATUSES!r}", name="privacy_erasures_hubspot_status_check"
    ),
)
sa.Index(
    "privacy_erasures_email_key", privacy_erasures.c.workspace_id, privacy_erasures.c.email_key, unique=True
)
sa.Index("privacy_erasures_lead_keys_idx", privacy_erasures.c.lead_keys, postgresql_using="gin")
sa.Index("privacy_erasures_hubspot_ids_idx", privacy_erasures.c.hubspot_ids, postgresql_using="gin")
