"""GET /metrics (Prometheus, every workspace, its own bearer token) and GET /alerts (the caller's workspace)."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.settings import get_settings

metrics_router = APIRouter(tags=["monitoring"])
router = APIRouter(tags=["monitoring"])

_metrics_bearer = HTTPBearer(
    auto_error=False, scheme_name="MetricsToken", description="METRICS_TOKEN (not a workspace API key)."
)


def _check_metrics_token(credentials: HTTPAuthorizationCredentials | None) -> None:
    token = get_settings().metrics_token
    if token is None:
        # Off until configured (404: there is nothing here to scrape; a 5xx would say the API is broken).
        raise ApiError(
            404,
            "metrics_not_configured",
            "GET /metrics spans every workspace, so it is off until it has its own token: set METRICS_TOKEN "
            "(at least 16 characters) for the API and give Prometheus the same value as its bearer token.",
        )
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise ApiError(
            401,
            "invalid_metrics_token",
            "Send METRICS_TOKEN as `Authorization: Bearer <token>` (workspace API keys do not open /metrics).",
        )


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics of the whole deployment (bearer METRICS_TOKEN)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format 0.0.4"}},
)
def metrics(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_metrics_bearer)],
) -> Response:
    _check_metrics_token(credentials)
    from hubspot_pipeline.monitoring.exposition import CONTENT_TYPE, render

    return Response(render(request.app.state.engine), media_type=CONTENT_TYPE)


class AlertOut(BaseModel):
    id: int
    key: str = Field(description="What the alert is about: rule, workspace and, for some, a job or portal.")
    rule: str
    severity: str = Field(description="warning or critical.")
    status: str = Field(description="firing or resolved.")
    summary: str
    details: dict[str, Any] = Field(description="Counts, rates, thresholds and ids: never personal data.")
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    notifications: int = Field(description="Messages sent about it (first one, then reminders).")


class AlertList(BaseModel):
    workspace_id: uuid.UUID
    alerts: list[AlertOut]


@router.get("/alerts", response_model=AlertList, summary="The workspace's alerts (firing by default)")
def list_alerts(
    caller: CallerDep,
    engine: EngineDep,
    status: Annotated[
        Literal["firing", "resolved", "all"], Query(description="firing (default), resolved or all.")
    ] = "firing",
    limit: Annotated[int, Query(ge=1, le=500, description="Newest first, at most this many.")] = 100,
) -> AlertList:
    from hubspot_pipeline.monitoring.alerts import workspace_alerts

    with engine.connect() as conn:
        rows = workspace_alerts(
            conn, caller.workspace_id, status=None if status == "all" else status, limit=limit
        )
    return AlertList(workspace_id=caller.workspace_id, alerts=[AlertOut.model_validate(row) for row in rows])
