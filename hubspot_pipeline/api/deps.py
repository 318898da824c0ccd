"""Request dependencies: the database engine and the caller's workspace.

Every endpoint but the webhook receiver and the OAuth callback needs a workspace API key, sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>`. The key decides the workspace: a request that names
another workspace (`workspace_id` query parameter or `X-Workspace-Id` header) is refused with 403, and
anything belonging to another workspace is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from hubspot_pipeline.api import keys
from hubspot_pipeline.api.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="A workspace API key (`hubspot-pipeline api-key issue`).")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Same key, as a header.")


def get_engine(request: Request) -> sa.Engine:
    return request.app.state.engine


@dataclass(frozen=True)
class Caller:
    workspace_id: uuid.UUID
    key_prefix: str

    @property
    def actor(self) -> str:
        return f"api-key:{self.key_prefix}"


def current_caller(
    request: Request,
    engine: Annotated[sa.Engine, Depends(get_engine)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> Caller:
    key = bearer.credentials if bearer is not None else header_key
    if not key:
        raise ApiError(
            401,
            "missing_api_key",
            "Send a workspace API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`; "
            "issue one with `hubspot-pipeline api-key issue --workspace <id>`.",
        )
    with engine.begin() as conn:
        workspace_id = keys.authenticate(conn, key)
    if workspace_id is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "This API key is unknown or revoked; issue a new one with `hubspot-pipeline api-key issue`.",
        )
    named = request.query_params.get("workspace_id") or request.headers.get("x-workspace-id")
    if named is not None and named != str(workspace_id):
        raise ApiError(
            403,
            "wrong_workspace",
            "This API key belongs to another workspace than the one named in the request; use a key of that "
            "workspace, or leave `workspace_id` out.",
        )
    return Caller(workspace_id=workspace_id, key_prefix=key.split("_")[1] if key.count("_") >= 2 else "?")


CallerDep = Annotated[Caller, Depends(current_caller)]
EngineDep = Annotated[sa.Engine, Depends(get_engine)]
