"""What conditions read of a lead (its fields, its engagement) and where it is in HubSpot."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    email_events,
    email_messages,
    hubspot_sync_status,
    lead_engagement,
    leads,
)
from hubspot_pipeline.workflows.core.fields import LEAD_FIELDS

CONTACT_ENTITY = "contact"  # the contact sync's pairs: entity_id is the lead, hubspot_id its contact
COUNTED = {"opened": "opened", "clicked": "clicked", "replied": "replied", "bounced": "bounced"}


@dataclass
class LeadFacts:
    id: uuid.UUID
    fields: dict[str, Any]  # lead.* (fields.py), custom_fields included
    engagement: dict[str, Any] = field(default_factory=dict)  # engagement.*
    contact_id: str | None = None  # the lead's HubSpot contact, once the sync made it

    @property
    def email(self) -> str:
        return str(self.fields.get("email") or "")


def lead_facts(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, LeadFacts]:
    """The leads of this workspace among `lead_ids` (deleted ones are absent), with engagement and contact."""
    ids = sorted(set(lead_ids))
    if not ids:
        return {}
    columns = [leads.c[name] for name in LEAD_FIELDS]
    rows = conn.execute(
        sa.select(leads.c.id, leads.c.custom_fields, *columns).where(
            leads.c.workspace_id == workspace_id, leads.c.id.in_(ids), leads.c.deleted_at.is_(None)
        )
    )
    found: dict[uuid.UUID, LeadFacts] = {}
    for row in rows:
        values = {name: getattr(row, name) for name in LEAD_FIELDS}
        values["custom_fields"] = row.custom_fields or {}
        found[row.id] = LeadFacts(row.id, values, {name: 0 for name in COUNTED.values()})
    if not found:
        return found
    counts = conn.execute(
        sa.select(email_events.c.lead_id, email_events.c.event_type, sa.func.count())
        .where(email_events.c.lead_id.in_(list(found)), email_events.c.event_type.in_(list(COUNTED)))
        .group_by(email_events.c.lead_id, email_events.c.event_type)
    )
    for lead_id, kind, count in counts:
        found[lead_id].engagement[COUNTED[kind]] = count
    last_intent = (
        sa.select(email_messages.c.lead_id, email_messages.c.intent)
        .where(email_messages.c.lead_id.in_(list(found)), email_messages.c.intent.is_not(None))
        .distinct(email_messages.c.lead_id)
        .order_by(email_messages.c.lead_id, email_messages.c.sent_at.desc())
    )
    for lead_id, intent in conn.execute(last_intent):
        found[lead_id].engagement["last_intent"] = intent
    published = sa.select(lead_engagement.c.lead_id, lead_engagement.c.score).where(
        lead_engagement.c.lead_id.in_(list(found))
    )
    for lead_id, score in conn.execute(published):
        found[lead_id].engagement["score"] = score
    s = hubspot_sync_status
    pairs = conn.execute(
        sa.select(s.c.entity_id, s.c.hubspot_id).where(
            s.c.workspace_id == workspace_id,
            s.c.entity_type == CONTACT_ENTITY,
            s.c.entity_id.in_(list(found)),
            s.c.hubspot_id.is_not(None),
        )
    )
    for lead_id, contact_id in pairs:
        found[lead_id].contact_id = contact_id
    return found


def lead_by_email(conn: sa.Connection, workspace_id: uuid.UUID, email: str) -> uuid.UUID | None:
    return conn.execute(
        sa.select(leads.c.id).where(
            leads.c.workspace_id == workspace_id,
            sa.func.lower(leads.c.email) == email.strip().lower(),
            leads.c.deleted_at.is_(None),
        )
    ).scalar_one_or_none()
