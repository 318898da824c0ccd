"""POST /workflows/process: ColdCopy posts one email event as it happens. It is stored as ColdCopy's email
event (idempotent on its id, so the activity logging sees it once too), a reply's intent is decided and kept
on the reply, the workspace's triggers are evaluated, and the executions run at once for up to
WORKFLOW_PROCESS_BUDGET_SECONDS; what is left stays pending for the trigger runs (defs/workflows)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.db.tables import email_events, email_messages, leads
from hubspot_pipeline.scoring.intent import Reason, classify_reply
from hubspot_pipeline.scoring.store.events import append_events, intent_decided
from hubspot_pipeline.workflows.core.events import Event
from hubspot_pipeline.workflows.store import executions
from hubspot_pipeline.workflows.store.events import email_event
from hubspot_pipeline.workflows.store.leads import lead_by_email

COLDCOPY_REASONS = (Reason.COLDCOPY_EVENT_INTENT, Reason.COLDCOPY_LEAD_STATUS)
EmailEventType = Literal["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"]


class ReplyMessage(BaseModel):
    """The reply itself, for its intent (and for the activity log)."""

    model_config = ConfigDict(extra="forbid")

    message_id_header: str = Field(
        min_length=3, max_length=998, description="Its Message-ID, e.g. <abc@mail.x>"
    )
    subject: str = Field("", max_length=2000)
    text: str | None = Field(None, max_length=200_000)
    html: str | None = Field(None, max_length=500_000)
    headers: dict[str, str] = Field(default_factory=dict, max_length=100)
    from_address: str | None = Field(None, max_length=320)
    to_address: str = Field("", max_length=320)
    in_reply_to_header: str | None = Field(None, max_length=998)


class ProcessEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = Field(description="ColdCopy's id of the event: posting it again does nothing new.")
    event_type: EmailEventType
    lead_id: uuid.UUID | None = None
    email: str | None = Field(
        None, max_length=320, description="The lead's email, when lead_id is not given."
    )
    occurred_at: datetime
    campaign_id: uuid.UUID | None = None
    link_url: str | None = Field(None, max_length=4000)
    bounce_reason: str | None = Field(None, max_length=2000)
    metadata: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=50)
    message: ReplyMessage | None = None

    @model_validator(mode="after")
    def _lead(self) -> ProcessEvent:
        if self.lead_id is None and not self.email:
            raise ValueError("name the lead: lead_id, or email")
        if self.message is not None and self.event_type != "replied":
            raise ValueError("only a replied event carries a message")
        if self.occurred_at.tzinfo is None:
            self.occurred_at = self.occurred_at.replace(tzinfo=UTC)
        return self


def _lead(
    conn: sa.Connection, workspace_id: uuid.UUID, body: ProcessEvent
) -> tuple[uuid.UUID, str, str | None]:
    if body.lead_id is not None:
        row = conn.execute(
            sa.select(leads.c.id, leads.c.email, leads.c.status).where(
                leads.c.workspace_id == workspace_id, leads.c.id == body.lead_id, leads.c.deleted_at.is_(None)
            )
        ).first()
    else:
        found = lead_by_email(conn, workspace_id, body.email or "")
        row = (
            conn.execute(
                sa.select(leads.c.id, leads.c.email, leads.c.status).where(leads.c.id == found)
            ).first()
            if found
            else None
        )
    if row is None:
        named = f"no lead {body.lead_id}" if body.lead_id else "no lead with that email"
        raise ApiError(
            404,
            "lead_not_found",
            f"This workspace has {named}; create the lead in ColdCopy first, then post its events",
        )
    return row.id, row.email, row.status


def _message(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_id: uuid.UUID, email: str, body: ProcessEvent
) -> uuid.UUID | None:
    message = body.message
    if message is None:
        return None
    conn.execute(
        insert(email_messages)
        .values(
            workspace_id=workspace_id,
            lead_id=lead_id,
            campaign_id=body.campaign_id,
            direction="received",
            message_id_header=message.message_id_header,
            in_reply_to_header=message.in_reply_to_header,
            from_address=message.from_address or email,
            to_address=message.to_address,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            sent_at=body.occurred_at,
        )
        .on_conflict_do_nothing()
    )
    row = conn.execute(
        sa.select(email_messages.c.id, email_messages.c.lead_id).where(
            email_messages.c.workspace_id == workspace_id,
            email_messages.c.message_id_header == message.message_id_header,
        )
    ).one()
    if row.lead_id != lead_id:
        raise ApiError(
            409,
            "message_of_another_lead",
            "This Message-ID is already stored for another lead; send the reply's own Message-ID",
        )
    return row.id


def store_event(
    conn: sa.Connection, workspace_id: uuid.UUID, body: ProcessEvent
) -> tuple[list[Event], bool, dict[str, Any] | None]:
    """Store the event (once) and return the trigger events it makes, whether it was new, and the intent."""
    lead_id, email, lead_status = _lead(conn, workspace_id, body)
    message_id = _message(conn, workspace_id, lead_id, email, body)
    inserted = conn.execute(
        insert(email_events)
        .values(
            id=body.event_id,
            workspace_id=workspace_id,
            lead_id=lead_id,
            campaign_id=body.campaign_id,
            event_type=body.event_type,
            occurred_at=body.occurred_at,
            metadata=body.metadata,
            message_id=message_id,
            link_url=body.link_url,
            bounce_reason=body.bounce_reason,
        )
        .on_conflict_do_nothing(index_elements=[email_events.c.id])
        .returning(email_events.c.id)
    ).first()
    row = conn.execute(sa.select(email_events).where(email_events.c.id == body.event_id)).one()
    if row.workspace_id != workspace_id:
        raise ApiError(
            409, "event_id_taken", f"Event id {body.event_id} is already taken; give each event its own id"
        )
    if row.lead_id != lead_id or row.event_type != body.event_type:
        raise ApiError(
            409,
            "event_id_reused",
            f"Event {body.event_id} was stored before as a {row.event_type} event of another lead or type; an "
            "event id names one event",
        )
    stored = email_event(row)
    events = [stored]
    intent: dict[str, Any] | None = None
    if row.event_type == "replied":
        message = body.message
        decision = classify_reply(
            subject=message.subject if message else None,
            text=message.text if message else None,
            html=message.html if message else None,
            headers=message.headers if message else None,
            lead_status=lead_status,
            event_metadata=row.metadata or {},
        )
        intent = {
            "intent": decision.intent.value,
            "confidence": decision.confidence,
            "reason": decision.reason.value,
        }
        if row.message_id is not None:
            # Kept on the reply as the scoring keeps it, with the engagement event its readers (dbt, the
            # trigger sensor) see; a reply decided before (posted again, or by the scoring) keeps its intent.
            newly = conn.execute(
                sa.update(email_messages)
                .where(email_messages.c.id == row.message_id, email_messages.c.intent.is_(None))
                .values(
                    intent=decision.intent.value,
                    intent_confidence=decision.confidence,
                    intent_source="coldcopy" if decision.reason in COLDCOPY_REASONS else "classifier",
                    intent_reason=decision.reason.value,
                    intent_classified_at=sa.func.now(),
                )
                .returning(email_messages.c.id)
            ).first()
            if newly is not None:
                append_events(
                    conn,
                    [
                        intent_decided(
                            workspace_id, lead_id, row.message_id, decision.intent.value, decision.confidence
                        )
                    ],
                )
        events.append(
            Event(
                "email",
                str(row.id),
                "intent_decided",
                workspace_id,
                lead_id,
                row.occurred_at,
                {"type": "replied", "intent": decision.intent.value, "confidence": decision.confidence},
                str(row.message_id) if row.message_id else None,
            )
        )
    return events, inserted is not None, intent


def due_ids(conn: sa.Connection, workspace_id: uuid.UUID, keys: list[str]) -> list[uuid.UUID]:
    return [e["id"] for e in executions.by_keys(conn, workspace_id, keys) if e["status"] == "pending"]


def deadline(budget_seconds: float) -> float:
    return time.monotonic() + budget_seconds
