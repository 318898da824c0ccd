"""ColdCopy rows for the activity tests: leads, campaigns, messages and email events, inserted as the app
would (through the lead outbox, so the contact sync picks the leads up)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hubspot_pipeline.db.tables import campaigns, email_events, email_messages, leads

SENDER = ("sam@coldcopy-test.example.com", "Sam Carter")


def add_lead(
    engine: sa.Engine, workspace_id: uuid.UUID, email: str, first: str = "Ada", last: str = "Byron"
) -> uuid.UUID:
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(leads)
            .values(
                workspace_id=workspace_id, email=email, first_name=first, last_name=last, company="Analytical"
            )
            .returning(leads.c.id)
        ).scalar_one()


def add_campaign(engine: sa.Engine, workspace_id: uuid.UUID, name: str = "Q4 outbound") -> uuid.UUID:
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(campaigns).values(workspace_id=workspace_id, name=name).returning(campaigns.c.id)
        ).scalar_one()


def add_message(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    lead_id: uuid.UUID,
    lead_email: str,
    *,
    direction: str = "sent",
    sent_at: datetime,
    subject: str = "Quick question",
    text: str | None = "Hi Ada,\n\nWorth a call?",
    html: str | None = "<p>Hi Ada,</p><p>Worth a call?</p>",
    in_reply_to: str | None = None,
    campaign_id: uuid.UUID | None = None,
    step: int | None = 1,
) -> tuple[uuid.UUID, str]:
    """A message; returns its id and its Message-ID header."""
    header = f"<{uuid.uuid4().hex}@mail.coldcopy-test.example.com>"
    sender, lead = SENDER, (lead_email, "Ada Byron")
    from_, to = (sender, lead) if direction == "sent" else (lead, sender)
    with engine.begin() as conn:
        message_id = conn.execute(
            sa.insert(email_messages)
            .values(
                workspace_id=workspace_id,
                lead_id=lead_id,
                campaign_id=campaign_id,
                campaign_step=step,
                direction=direction,
                message_id_header=header,
                in_reply_to_header=in_reply_to,
                from_address=from_[0],
                from_name=from_[1],
                to_address=to[0],
                to_name=to[1],
                subject=subject,
                body_text=text,
                body_html=html,
                sent_at=sent_at,
            )
            .returning(email_messages.c.id)
        ).scalar_one()
    return message_id, header


def add_event(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    lead_id: uuid.UUID,
    kind: str,
    at: datetime,
    *,
    message_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    url: str | None = None,
    reason: str | None = None,
) -> uuid.UUID:
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(email_events)
            .values(
                workspace_id=workspace_id,
                lead_id=lead_id,
                campaign_id=campaign_id,
                event_type=kind,
                occurred_at=at,
                message_id=message_id,
                link_url=url,
                bounce_reason=reason,
            )
            .returning(email_events.c.id)
        ).scalar_one()


@dataclass
class Sequence:
    """One lead's whole sequence: a sent message, every event type about it, and a reply."""

    lead_id: uuid.UUID
    email: str
    sent_header: str
    reply_header: str
    events: dict[str, uuid.UUID] = field(default_factory=dict)


def add_sequence(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    email: str,
    at: datetime | None = None,
    *,
    lead_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    kinds: tuple[str, ...] = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"),
) -> Sequence:
    at = at or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    lead_id = lead_id or add_lead(engine, workspace_id, email)
    campaign_id = campaign_id or add_campaign(engine, workspace_id)
    sent_id, sent_header = add_message(
        engine, workspace_id, lead_id, email, sent_at=at, campaign_id=campaign_id, subject="Quick question"
    )
    reply_id, reply_header = add_message(
        engine,
        workspace_id,
        lead_id,
        email,
        direction="received",
        sent_at=at + timedelta(hours=1),
        subject="Re: Quick question",
        text="Sounds good, Thursday works.",
        html=None,
        in_reply_to=sent_header,
        campaign_id=campaign_id,
    )
    sequence = Sequence(lead_id, email, sent_header, reply_header)
    for offset, kind in enumerate(kinds):
        sequence.events[kind] = add_event(
            engine,
            workspace_id,
            lead_id,
            kind,
            at + timedelta(minutes=offset),
            message_id=reply_id if kind == "replied" else sent_id,
            campaign_id=campaign_id,
            url="https://coldcopy-test.example.com/case-study?lead=ada%40x.com#top"
            if kind == "clicked"
            else None,
            reason="550 5.1.1 The email account that you tried to reach does not exist"
            if kind == "bounced"
            else None,
        )
    return sequence


def sync_contacts(engine: sa.Engine, client, workspace_id: uuid.UUID) -> None:
    """The contact sync, as `hubspot-pipeline sync` runs it: leads become HubSpot contacts."""
    from hubspot_pipeline.sync.engine import prepare, run_contact_sync
    from hubspot_pipeline.sync.properties import ensure_hubspot_properties

    ensure_hubspot_properties(prepare(engine, client, workspace_id))
    report = run_contact_sync(engine, client, workspace_id)
    assert report.errors == 0, report.error_samples
