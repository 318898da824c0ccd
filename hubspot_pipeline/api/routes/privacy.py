"""POST /privacy/erasures: erase a person (GDPR), named by lead id or by email, in HubSpot (GDPR delete) and
in every local copy; what stays is a keyed hash of the email, so the sync never re-creates them."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError

router = APIRouter(tags=["privacy"])


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: uuid.UUID | None = Field(None, description="The lead to erase (a lead of this workspace).")
    email: str | None = Field(
        None,
        min_length=3,
        max_length=320,
        description="The person's email (compared case-insensitively with the workspace's leads).",
    )

    @model_validator(mode="after")
    def _one_of(self) -> ErasureRequest:
        if (self.lead_id is None) == (self.email is None):
            raise ValueError("name the person by exactly one of lead_id or email")
        if self.email is not None and ("@" not in self.email or not self.email.isprintable()):
            raise ValueError("email must be an email address: it has no @, or holds control characters")
        return self


class ErasureOut(BaseModel):
    status: Literal["erased", "already_erased"] = Field(
        description="`already_erased`: nothing of this person was left; the request changed nothing."
    )
    erasure_ids: list[uuid.UUID]
    hubspot: str = Field(
        description="The HubSpot side: deleted, not_found, not_connected (the workspace has no HubSpot "
        "connection: nothing was sent), failed (send the same request again to retry), deleted_by_hubspot."
    )
    deleted: dict[str, int] = Field(description="Rows deleted or scrubbed, per table.")
    hubspot_error: str | None = None


@router.post(
    "/privacy/erasures",
    summary="Erase a person (GDPR): HubSpot's GDPR delete and every local copy; a repeat is a no-op",
    response_model=ErasureOut,
    responses={404: {"description": "No lead with this id or email in this workspace, and none erased"}},
)
def erase(body: ErasureRequest, caller: CallerDep, engine: EngineDep) -> ErasureOut:
    from hubspot_pipeline.privacy.erasure import PersonNotFound, erase_person, workspace_hubspot
    from hubspot_pipeline.settings import SettingsError

    try:
        outcome = erase_person(
            engine,
            caller.workspace_id,
            lead_id=body.lead_id,
            email=body.email,
            hubspot=workspace_hubspot(engine, caller.workspace_id),
            actor=caller.actor,
        )
    except PersonNotFound:
        raise ApiError(
            404,
            "person_not_found",
            "This workspace has no lead with that id or email, and has erased none: check the lead id or the "
            "address (emails compare case-insensitively).",
        ) from None
    except SettingsError as error:
        raise ApiError(503, "not_configured", str(error)) from None
    return ErasureOut(**outcome.__dict__)
