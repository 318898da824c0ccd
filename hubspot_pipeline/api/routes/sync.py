"""POST /sync/contacts and POST /sync/activities queue a sync request; GET /sync/requests/{id} and
GET /sync/status report on them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hubspot_pipeline.activities.core.days import FIRST_DAY
from hubspot_pipeline.api import audit
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.hubspot_access import connected_hub_id
from hubspot_pipeline.api.routes.monitoring import AlertOut
from hubspot_pipeline.api.status import workspace_status
from hubspot_pipeline.api.sync_requests import get_request, queue_request

router = APIRouter(tags=["sync"])


class SyncRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(False, description="Compute the plan (push, pull, conflicts) without applying it.")
    full_resync: bool = Field(
        False, description="Compare every record, not only those changed since the last run."
    )


EventType = Literal["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"]
MAX_ACTIVITY_DAYS = 366


class ActivityRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_from: date | None = Field(
        None,
        description="First UTC day whose email events are logged. Unset: every day with pending events since "
        "the workspace's activity sync started.",
    )
    date_to: date | None = Field(None, description="Last UTC day, included (needs date_from). Unset: today.")
    event_types: list[EventType] | None = Field(
        None, description="Only these event types (of those the workspace logs). Unset: all it logs."
    )

    @model_validator(mode="after")
    def _range(self) -> ActivityRequestBody:
        today = datetime.now(UTC).date()
        if self.date_to is not None and self.date_from is None:
            raise ValueError("date_to needs date_from: give the first day of the range too")
        if self.date_from is not None:
            if self.date_from > today:
                raise ValueError(f"date_from {self.date_from} is in the future (today is {today} UTC)")
            if self.date_from < FIRST_DAY:
                raise ValueError(
                    f"date_from {self.date_from} is before {FIRST_DAY}, the first day activity batches cover; "
                    "log older events with `hubspot-pipeline activities log --since`"
                )
            last = self.date_to or today
            if last < self.date_from:
                raise ValueError(f"date_to {last} is before date_from {self.date_from}")
            if last > today:
                raise ValueError(f"date_to {last} is in the future (today is {today} UTC)")
            if (last - self.date_from).days + 1 > MAX_ACTIVITY_DAYS:
                raise ValueError(f"at most {MAX_ACTIVITY_DAYS} days at a time; split the range")
            self.date_to = last
        if self.event_types is not None and not self.event_types:
            raise ValueError("event_types is empty: leave it out for every type, or name at least one")
        return self


class SyncRequest(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    kind: str
    dry_run: bool
    full_resync: bool
    date_from: date | None = Field(None, description="Activity requests: the first UTC day.")
    date_to: date | None = Field(None, description="Activity requests: the last UTC day, included.")
    event_types: list[str] | None = Field(None, description="Activity requests: only these event types.")
    status: str = Field(description="queued, launched, succeeded or failed.")
    requested_at: datetime
    launched_at: datetime | None = None
    finished_at: datetime | None = None
    run_id: str | None = Field(None, description="The Dagster run, once launched.")
    result: dict[str, Any] | None = Field(None, description="Counts of the run, once finished.")


class ErrorRow(BaseModel):
    entity_type: str | None
    entity_id: uuid.UUID | None
    hubspot_id: str | None
    error_message: str | None
    attempts: int
    dead_at: datetime | None
    updated_at: datetime | None


class CursorLag(BaseModel):
    stream: str
    updated_at: datetime
    lag_seconds: float = Field(description="Seconds since the cursor last advanced.")
    data_lag_seconds: float | None = Field(
        None, description="How far behind now the last record read is (HubSpot search cursor)."
    )
    position: int | None = Field(None, description="The lead outbox id read up to (outbox cursor).")


class Queues(BaseModel):
    webhook_events_pending: int
    sync_requests_pending: int
    lead_changes_pending: int


class RetryIndex(BaseModel):
    size: int = Field(description="Rows that failed and are retried on every run.")
    dead: int = Field(description="Rows given up on, waiting for a person.")


class DagsterRun(BaseModel):
    run_id: str
    job: str
    status: str
    trigger: str = Field(description="webhooks, api, the sensor or schedule that launched it, or manual.")
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int | float] = Field(
        description="What the run did (synced, pushed, pulled, conflicts...)."
    )


class ActivityBacklog(BaseModel):
    ready: int = Field(description="Events not yet in HubSpot whose lead has a HubSpot contact.")
    waiting_for_contact: int = Field(
        description="Events waiting for the contact sync to create their contact."
    )
    oldest: datetime | None = Field(None, description="When the oldest of them happened.")


class ActivityStatus(BaseModel):
    enabled: bool = Field(
        description="False when sync_activities (or the whole sync) is off: nothing is sent."
    )
    event_types: list[str] = Field(description="The event types the workspace logs.")
    content: str = Field(description="full, subject or metadata: how much of each message goes to HubSpot.")
    timeline_fallback: str = Field(
        description="notes or skip: what replaces timeline events on a private app."
    )
    since: datetime | None = Field(
        None, description="Events from this time on are logged (set on first connect)."
    )
    backlog: ActivityBacklog
    in_flight: int = Field(description="Creates whose outcome a later run settles (after a crash or a 5xx).")
    logged: dict[str, int] = Field(description="Events in HubSpot, by type.")
    skipped: int = Field(description="Events deliberately not sent (timeline types on a private app, skip).")
    last_logged_at: datetime | None = None
    errors: int = Field(description="Events in the retry index (see `errors` for their messages).")
    dead: int = Field(description="Events given up on after repeated failures, waiting for a person.")


class SyncStatus(BaseModel):
    workspace_id: uuid.UUID
    as_of: datetime
    recent_runs: list[SyncRequest] = Field(description="Sync requests made through this API, newest first.")
    dagster_runs: list[DagsterRun] | None = Field(
        None,
        description="The workspace's latest runs, whatever launched them (null: no Dagster instance here).",
    )
    entities: dict[str, dict[str, int]] = Field(description="Rows per entity type and sync status.")
    errors: list[ErrorRow]
    retry_index: RetryIndex
    cursors: list[CursorLag]
    queues: Queues
    activities: ActivityStatus = Field(
        description="Email activity logged to HubSpot: backlog, counts, errors."
    )
    open_alerts: list[AlertOut] = Field(
        description="The workspace's alerts firing now (GET /alerts has more)."
    )


@router.post("/sync/contacts", response_model=SyncRequest, status_code=202, summary="Queue a contact sync")
def sync_contacts(caller: CallerDep, engine: EngineDep, body: SyncRequestBody | None = None) -> SyncRequest:
    body = body or SyncRequestBody()
    connected_hub_id(engine, caller.workspace_id)  # 409 with what to do when there is nothing to sync with
    with engine.begin() as conn:
        row = queue_request(
            conn,
            caller.workspace_id,
            kind="contacts",
            dry_run=body.dry_run,
            full_resync=body.full_resync,
            requested_by=caller.actor,
        )
        audit.record(
            conn,
            workspace_id=caller.workspace_id,
            actor=caller.actor,
            action="sync.request",
            target=str(row["id"]),
            details={"kind": "contacts", "dry_run": body.dry_run, "full_resync": body.full_resync},
        )
    return SyncRequest.model_validate(row)


@router.post(
    "/sync/activities",
    response_model=SyncRequest,
    status_code=202,
    summary="Queue logging of email activity to HubSpot",
)
def sync_activities(
    caller: CallerDep, engine: EngineDep, body: ActivityRequestBody | None = None
) -> SyncRequest:
    """Log the workspace's pending email events (optionally of a date range and some event types) to HubSpot.
    Each event reaches HubSpot once, however often it is requested."""
    from hubspot_pipeline.activities.store.settings import activity_settings

    body = body or ActivityRequestBody()
    connected_hub_id(engine, caller.workspace_id)
    with engine.begin() as conn:
        if not activity_settings(conn, caller.workspace_id).enabled:
            raise ApiError(
                409,
                "activities_off",
                "Email activity sync is off for this workspace (sync_activities or enabled is false); turn it on "
                "with PUT /api/integrations/hubspot/config, then request it again.",
            )
        row = queue_request(
            conn,
            caller.workspace_id,
            kind="activities",
            requested_by=caller.actor,
            date_from=body.date_from,
            date_to=body.date_to,
            event_types=list(body.event_types) if body.event_types else None,
        )
        audit.record(
            conn,
            workspace_id=caller.workspace_id,
            actor=caller.actor,
            action="sync.request",
            target=str(row["id"]),
            details={
                "kind": "activities",
                "date_from": str(body.date_from) if body.date_from else None,
                "date_to": str(body.date_to) if body.date_to else None,
                "event_types": body.event_types,
            },
        )
    return SyncRequest.model_validate(row)


@router.get(
    "/sync/requests/{request_id}", response_model=SyncRequest, summary="One sync request and its outcome"
)
def sync_request(request_id: uuid.UUID, caller: CallerDep, engine: EngineDep) -> SyncRequest:
    with engine.connect() as conn:
        row = get_request(conn, caller.workspace_id, request_id)
    if row is None:
        raise ApiError(404, "not_found", f"No sync request {request_id} in this workspace; check the id.")
    return SyncRequest.model_validate(row)


@router.get(
    "/sync/status",
    response_model=SyncStatus,
    summary="Runs, errors, retry index, cursor lag, queues, email activity, open alerts",
)
def sync_status(caller: CallerDep, engine: EngineDep) -> SyncStatus:
    with engine.connect() as conn:
        return SyncStatus.model_validate(workspace_status(conn, caller.workspace_id))
