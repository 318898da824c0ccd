"""GET/PUT /config: whether and how the workspace syncs, and the state of its HubSpot connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.activities.core.events import DEFAULT_EVENT_TYPES, EVENT_TYPES
from hubspot_pipeline.api import audit
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_config
from hubspot_pipeline.hubspot.oauth import SCOPES
from hubspot_pipeline.scoring import weights

router = APIRouter(tags=["configuration"])
# Scopes added after the first release, and the feature each one opens.
FEATURE_SCOPES = {"automation": "workflow_triggers"}

ConflictPolicy = Literal["latest", "coldcopy_wins", "hubspot_wins"]
EventType = Literal["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"]
ActivityContent = Literal["full", "subject", "metadata"]
TimelineFallback = Literal["notes", "skip"]
ArchiveAction = Literal["unlink", "delete_lead", "keep"]
SETTINGS = (
    "enabled",
    "conflict_policy",
    "sync_contacts",
    "sync_companies",
    "sync_activities",
    "on_hubspot_archive",
    "activity_event_types",
    "activity_content",
    "activity_timeline_fallback",
    "engagement_weights",
    "engagement_half_life_days",
    "engagement_high_threshold",
)
# The table's server defaults, for a workspace that has never saved its configuration.
DEFAULTS = {
    "enabled": True,
    "conflict_policy": "latest",
    "sync_contacts": True,
    "sync_companies": True,
    "sync_activities": True,
    "on_hubspot_archive": "unlink",
    "activity_event_types": list(DEFAULT_EVENT_TYPES),
    "activity_content": "full",
    "activity_timeline_fallback": "notes",
    "engagement_weights": dict(weights.DEFAULT_WEIGHTS),
    "engagement_half_life_days": weights.DEFAULT_HALF_LIFE_DAYS,
    "engagement_high_threshold": weights.DEFAULT_HIGH_THRESHOLD,
}


class Connection(BaseModel):
    connected: bool = Field(description="True while the workspace holds HubSpot tokens.")
    status: str = Field(description="connected, needs_reconnect or disconnected.")
    error: str | None = Field(None, description="Why the connection needs attention, when it does.")
    hub_id: str | None = None
    scopes: list[str] = []
    access_token_expires_at: datetime | None = None
    missing_scopes: list[str] = Field(
        [], description="Scopes the app asks for now that this connection has not granted (connected before)."
    )
    reconnect_for: list[str] = Field(
        [],
        description="Features waiting for a reconnect that grants the missing scopes (e.g. workflow_triggers); "
        "everything else, the sync included, keeps working.",
    )


class SyncConfig(BaseModel):
    workspace_id: uuid.UUID
    enabled: bool
    conflict_policy: ConflictPolicy
    sync_contacts: bool
    sync_companies: bool
    sync_activities: bool
    on_hubspot_archive: ArchiveAction
    activity_event_types: list[EventType]
    activity_content: ActivityContent
    activity_timeline_fallback: TimelineFallback
    engagement_weights: dict[str, float]
    engagement_half_life_days: float
    engagement_high_threshold: int
    updated_at: datetime | None
    connection: Connection


class SyncConfigUpdate(BaseModel):
    """Only the settings given are changed. (There is no per-workspace schedule: every workspace syncs within
    seconds of a change, through the sensors, and every 15 minutes and every night by the schedules.)"""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    conflict_policy: ConflictPolicy | None = Field(
        None, description="Who wins a field changed on both sides: latest change, ColdCopy, or HubSpot."
    )
    sync_contacts: bool | None = None
    sync_companies: bool | None = None
    sync_activities: bool | None = None
    on_hubspot_archive: ArchiveAction | None = Field(
        None, description="What happens to a lead whose contact is archived in HubSpot."
    )
    activity_event_types: list[EventType] | None = Field(
        None,
        description="Email event types logged to HubSpot (default: all but delivered). Turn everything off with "
        "sync_activities: false.",
    )
    activity_content: ActivityContent | None = Field(
        None,
        description="How much of each message goes to HubSpot: full (subject and bodies), subject (no bodies) "
        "or metadata (no subject, no body, links without their path).",
    )
    activity_timeline_fallback: TimelineFallback | None = Field(
        None,
        description="What replaces timeline events on a portal connected by a private app, which HubSpot "
        "refuses them: notes on the contact, or nothing (the events are recorded as skipped).",
    )

    engagement_weights: dict[str, Any] | None = Field(
        None,
        description="Points of the engagement score per kind of event before decay: open, click, reply, "
        "positive_reply (a reply whose intent is interested), bounce, unsubscribe; -1000..1000 each. Kinds not "
        "given keep their current weight. Score = the decayed points summed, rounded, within 0..100.",
    )
    engagement_half_life_days: float | None = Field(
        None, description="Days after which an event is worth half its points (above 0, at most 3650)."
    )
    engagement_high_threshold: int | None = Field(
        None,
        description="The score (1..100) a high-engagement crossing is judged against when no enabled "
        "high_engagement workflow trigger names one.",
    )

    @field_validator("engagement_weights")
    @classmethod
    def _weights(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            weights.validated_weights(value)
        except weights.WeightsError as error:
            raise ValueError(str(error)) from None
        return {kind: float(weight) for kind, weight in value.items()}

    @field_validator("engagement_half_life_days", mode="before")
    @classmethod
    def _half_life(cls, value: object) -> object:
        if value is None:
            return None
        try:
            return weights.validated_half_life(value)
        except weights.WeightsError as error:
            raise ValueError(str(error)) from None

    @field_validator("engagement_high_threshold", mode="before")
    @classmethod
    def _threshold(cls, value: object) -> object:
        if value is None:
            return None
        try:
            return weights.validated_threshold(value)
        except weights.WeightsError as error:
            raise ValueError(str(error)) from None

    @field_validator("activity_event_types")
    @classmethod
    def _event_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one event type; to log none, set sync_activities to false")
        return sorted(set(value), key=EVENT_TYPES.index)


def read_config(conn: sa.Connection, workspace_id: uuid.UUID) -> SyncConfig:
    row = conn.execute(
        sa.select(hubspot_sync_config).where(hubspot_sync_config.c.workspace_id == workspace_id)
    ).first()
    integration = conn.execute(
        sa.select(
            hubspot_integrations.c.hub_id,
            hubspot_integrations.c.scopes,
            hubspot_integrations.c.expires_at,
            (hubspot_integrations.c.refresh_token.is_not(None)).label("has_tokens"),
        ).where(hubspot_integrations.c.workspace_id == workspace_id)
    ).first()
    values = {name: getattr(row, name) for name in SETTINGS} if row else dict(DEFAULTS)
    # Stored weights may predate a kind: complete them as the dbt models do.
    values["engagement_weights"] = weights.validated_weights(values["engagement_weights"] or {})
    connected = bool(integration and integration.has_tokens)
    granted = list(integration.scopes or []) if integration else []
    # A private-app connection records no scopes: nothing to say about them.
    missing = [scope for scope in SCOPES if scope not in granted] if connected and granted else []
    status = row.connection_status if row else ("connected" if connected else "disconnected")
    connection = Connection(
        connected=connected,
        status=status if connected or status == "needs_reconnect" else "disconnected",
        error=row.connection_error if row else None,
        hub_id=integration.hub_id if integration else None,
        scopes=list(integration.scopes or []) if integration else [],
        access_token_expires_at=integration.expires_at if connected and integration else None,
        missing_scopes=missing,
        reconnect_for=sorted({FEATURE_SCOPES[s] for s in missing if s in FEATURE_SCOPES}),
    )
    return SyncConfig(
        workspace_id=workspace_id, updated_at=row.updated_at if row else None, connection=connection, **values
    )


@router.get("/config", response_model=SyncConfig, summary="The workspace's sync configuration and connection")
def get_config(caller: CallerDep, engine: EngineDep) -> SyncConfig:
    with engine.connect() as conn:
        return read_config(conn, caller.workspace_id)


@router.put("/config", response_model=SyncConfig, summary="Change sync settings (only those given)")
def put_config(update: SyncConfigUpdate, caller: CallerDep, engine: EngineDep) -> SyncConfig:
    changes = update.model_dump(exclude_none=True)
    with engine.begin() as conn:
        if "engagement_weights" in changes:  # kinds not named keep their current weight
            current = read_config(conn, caller.workspace_id).engagement_weights
            changes["engagement_weights"] = {**current, **changes["engagement_weights"]}
        if changes:
            statement = insert(hubspot_sync_config).values(workspace_id=caller.workspace_id, **changes)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[hubspot_sync_config.c.workspace_id],
                    set_={**changes, "updated_at": sa.func.now()},
                )
            )
        audit.record(
            conn,
            workspace_id=caller.workspace_id,
            actor=caller.actor,
            action="config.update",
            details={"changed": changes},
        )
        return read_config(conn, caller.workspace_id)
