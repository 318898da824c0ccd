"""Pending email events: those of the workspace's chosen types with no activity log row and not given up on,
read with their message, their campaign's name and their lead's HubSpot contact (from the contact sync's
pairs in `hubspot_sync_status`), a page at a time in (occurred_at, id) order."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql.selectable import NamedFromClause

from hubspot_pipeline.activities.core.events import EmailEvent, Message
from hubspot_pipeline.db.tables import (
    campaigns,
    email_events,
    email_messages,
    hubspot_activity_log,
    hubspot_sync_status,
)

CONTACT_ENTITY = "contact"  # the contact sync's pairs: entity_id is the lead, hubspot_id its contact
ACTIVITY_ENTITY = "activity"  # the activity retry index: entity_id is the email event

Window = tuple[datetime, datetime]  # [start, end)


def pending_filter(workspace_id: uuid.UUID, event_types: Collection[str]) -> sa.ColumnElement[bool]:
    """Events of the workspace and types that are not logged (nor in flight, nor skipped) and not dead."""
    e, log, status = email_events, hubspot_activity_log, hubspot_sync_status
    logged = sa.exists().where(log.c.email_event_id == e.c.id)
    dead = sa.exists().where(
        status.c.workspace_id == e.c.workspace_id,
        status.c.entity_type == ACTIVITY_ENTITY,
        status.c.entity_id == e.c.id,
        status.c.dead_at.is_not(None),
    )
    return sa.and_(e.c.workspace_id == workspace_id, e.c.event_type.in_(list(event_types)), ~logged, ~dead)


def contact_join() -> tuple[sa.Join, NamedFromClause]:
    contact = hubspot_sync_status.alias("contact_pair")
    e = email_events
    joined = e.outerjoin(
        contact,
        sa.and_(
            contact.c.workspace_id == e.c.workspace_id,
            contact.c.entity_type == CONTACT_ENTITY,
            contact.c.entity_id == e.c.lead_id,
        ),
    )
    return joined, contact


def pending_events(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    event_types: Collection[str],
    *,
    window: Window | None,
    extra_ids: Sequence[str] = (),
    after: tuple[datetime, str] | None = None,
    limit: int = 5_000,
) -> list[EmailEvent]:
    """The next `limit` pending events after `after`: those in `window` (all when None) and those named by
    `extra_ids` (the retry index, in-flight rows found never created) whatever their time."""
    e, m, c = email_events, email_messages, campaigns
    joined, contact = contact_join()
    conditions = [pending_filter(workspace_id, event_types)]
    if window is not None:
        in_window = sa.and_(e.c.occurred_at >= window[0], e.c.occurred_at < window[1])
        extra = [uuid.UUID(i) for i in extra_ids]
        conditions.append(sa.or_(in_window, e.c.id.in_(extra)) if extra else in_window)
    if after is not None:
        conditions.append(
            sa.tuple_(e.c.occurred_at, e.c.id)
            > sa.tuple_(sa.literal(after[0]), sa.literal(uuid.UUID(after[1])))
        )
    query = (
        sa.select(
            e.c.id,
            e.c.lead_id,
            e.c.event_type,
            e.c.occurred_at,
            e.c.link_url,
            e.c.bounce_reason,
            c.c.name.label("campaign_name"),
            contact.c.hubspot_id.label("contact_id"),
            m.c.id.label("m_id"),
            m.c.lead_id.label("m_lead_id"),
            m.c.direction,
            m.c.message_id_header,
            m.c.in_reply_to_header,
            m.c.from_address,
            m.c.from_name,
            m.c.to_address,
            m.c.to_name,
            m.c.subject,
            m.c.body_text,
            m.c.body_html,
            m.c.campaign_step,
            m.c.sent_at,
        )
        .select_from(joined.outerjoin(m, m.c.id == e.c.message_id).outerjoin(c, c.c.id == e.c.campaign_id))
        .where(*conditions)
        .order_by(e.c.occurred_at, e.c.id)
        .limit(limit)
    )
    return [_event(row) for row in conn.execute(query)]


def _event(row: sa.Row) -> EmailEvent:
    message = None
    if row.m_id is not None:
        message = Message(
            id=str(row.m_id),
            lead_id=str(row.m_lead_id),
            direction=row.direction,
            message_id_header=row.message_id_header,
            in_reply_to_header=row.in_reply_to_header,
            from_address=row.from_address,
            from_name=row.from_name,
            to_address=row.to_address,
            to_name=row.to_name,
            subject=row.subject,
            body_text=row.body_text,
            body_html=row.body_html,
            campaign_step=row.campaign_step,
            sent_at=row.sent_at,
        )
    return EmailEvent(
        id=str(row.id),
        lead_id=str(row.lead_id),
        event_type=row.event_type,
        occurred_at=row.occurred_at,
        campaign_name=row.campaign_name,
        link_url=row.link_url,
        bounce_reason=row.bounce_reason,
        message=message,
        contact_id=row.contact_id,
    )
