"""POST /sync/contacts queues a sync request; GET /sync/requests/{id} and GET /sync/status report on them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hubspot_pipeline.api import audit
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.hubspot_access import connected_hub_id
from hubspot_pipeline.api.status import workspace_status
from hubspot_pipeline.api.sync_requests import get_request, queue_request

router = APIRouter(tags=["sync"])


class SyncRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(False, description="Compute the plan (push, pull, conflicts) without applying it.")
    full_resync: bool = Field(
        False, description="Compare every record, not only those changed since the last run."
    )


class SyncRequest(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    kind: str
    dry_run: bool
    full_resync: bool
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
    "/sync/status", response_model=SyncStatus, summary="Runs, errors, retry index, cursor lag, queues"
)
def sync_status(caller: CallerDep, engine: EngineDep) -> SyncStatus:
    with engine.connect() as conn:
        return SyncStatus.model_validate(workspace_status(conn, caller.workspace_id))
