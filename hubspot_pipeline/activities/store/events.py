"""Pending email events: those of the workspace's chosen types with no activity log row and not given up on,
read with their message, their campaign's name and their lead's HubSpot contact (from the contact sync's
pairs in `hubspot_sync_status`), a page at a time in (occurred_at, id) order. `pending_filter` and
`contact_join` serve the aggregate counts (store/status.py)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
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


def any_of(column: sa.ColumnElement, values: Collection[uuid.UUID]) -> sa.ColumnElement[bool]:
    """`column = ANY(:array)`: one parameter however many ids (an expanded IN of 10,000 ids costs more to
    build and parse than to run)."""
    return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(UUID(as_uuid=True))))


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
) -> tuple[list[EmailEvent], tuple[datetime, str] | None]:
    """Up to `limit` pending events after `after`, in (occurred_at, id) order: those in `window` (all when
    None) and those named by `extra_ids` (the retry index, in-flight rows found never created) whatever their
    time; and where the next page starts (None: no more).

    Every query reads one table, by an index range or `= ANY(ids)` on a unique index: right after a bulk
    change, before PostgreSQL has new statistics, a join here could be planned as a loop over the whole
    other table per event (seconds for a few thousand events); these cannot."""
    e = email_events
    conditions = [e.c.workspace_id == workspace_id, e.c.event_type.in_(list(event_types))]
    if window is not None:
        in_window = sa.and_(e.c.occurred_at >= window[0], e.c.occurred_at < window[1])
        extra = [uuid.UUID(i) for i in extra_ids]
        conditions.append(sa.or_(in_window, any_of(e.c.id, extra)) if extra else in_window)
    found: list[sa.Row] = []
    cursor = after
    while len(found) < limit:
        page = conditions
        if cursor is not None:
            page = [
                *conditions,
                sa.tuple_(e.c.occurred_at, e.c.id)
                > sa.tuple_(sa.literal(cursor[0]), sa.literal(uuid.UUID(cursor[1]))),
            ]
        candidates = conn.execute(
            sa.select(e.c.id, e.c.occurred_at).where(*page).order_by(e.c.occurred_at, e.c.id).limit(limit)
        ).all()
        if not candidates:
            return _load(conn, workspace_id, [row.id for row in found]), None
        settled = _settled(conn, workspace_id, [row.id for row in candidates])
        for row in candidates:
            cursor = (row.occurred_at, str(row.id))
            if row.id not in settled:
                found.append(row)
                if len(found) == limit:
                    break
        if len(candidates) < limit and len(found) < limit:
            return _load(conn, workspace_id, [row.id for row in found]), None
    return _load(conn, workspace_id, [row.id for row in found]), cursor


def _settled(conn: sa.Connection, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these events have a log row (logged, in flight, skipped) or are given up on."""
    log, status = hubspot_activity_log, hubspot_sync_status
    settled = set(
        conn.execute(sa.select(log.c.email_event_id).where(any_of(log.c.email_event_id, ids))).scalars()
    )
    settled |= set(
        conn.execute(
            sa.select(status.c.entity_id).where(
                status.c.workspace_id == workspace_id,
                status.c.entity_type == ACTIVITY_ENTITY,
                any_of(status.c.entity_id, ids),
                status.c.dead_at.is_not(None),
            )
        ).scalars()
    )
    return settled


MESSAGE_COLUMNS = (
    "id",
    "lead_id",
    "direction",
    "message_id_header",
    "in_reply_to_header",
    "from_address",
    "from_name",
    "to_address",
    "to_name",
    "subject",
    "body_text",
    "body_html",
    "campaign_step",
    "sent_at",
)  # fmt: skip  (Message's fields, in order)


def _load(conn: sa.Connection, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> list[EmailEvent]:
    """The events with their messages, campaign names and contacts, in the order given."""
    if not ids:
        return []
    e, m, c, s = email_events, email_messages, campaigns, hubspot_sync_status
    columns = (e.c.id, e.c.lead_id, e.c.event_type, e.c.occurred_at, e.c.campaign_id, e.c.link_url)
    query = sa.select(*columns, e.c.bounce_reason, e.c.message_id).where(any_of(e.c.id, ids))
    events = {row[0]: tuple(row) for row in conn.execute(query)}
    message_ids = {row[7] for row in events.values() if row[7] is not None}
    messages: dict[uuid.UUID, Message] = {}
    if message_ids:
        query = sa.select(*(m.c[name] for name in MESSAGE_COLUMNS)).where(any_of(m.c.id, message_ids))
        for row in conn.execute(query):
            messages[row[0]] = Message(str(row[0]), str(row[1]), *row[2:])
    campaign_ids = {row[4] for row in events.values() if row[4] is not None}
    names: dict[uuid.UUID, str] = {}
    if campaign_ids:
        query = sa.select(c.c.id, c.c.name).where(any_of(c.c.id, campaign_ids))
        names = {campaign_id: name for campaign_id, name in conn.execute(query)}
    pairs = sa.select(s.c.entity_id, s.c.hubspot_id).where(
        s.c.workspace_id == workspace_id,
        s.c.entity_type == CONTACT_ENTITY,
        any_of(s.c.entity_id, {row[1] for row in events.values()}),
        s.c.hubspot_id.is_not(None),
    )
    contacts: dict[uuid.UUID, str] = {lead_id: contact_id for lead_id, contact_id in conn.execute(pairs)}
    out = []
    for event_id in ids:
        values = events.get(event_id)
        if values is None:
            continue
        _, lead_id, kind, occurred_at, campaign_id, link_url, bounce_reason, message_id = values
        out.append(
            EmailEvent(
                str(event_id),
                str(lead_id),
                kind,
                occurred_at,
                names.get(campaign_id) if campaign_id else None,
                link_url,
                bounce_reason,
                messages.get(message_id) if message_id else None,
                contacts.get(lead_id),
            )
        )
    return out
