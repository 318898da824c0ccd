"""GET /properties (the portal's contact and company properties), GET/POST /mappings (the workspace's field
mappings, validated and saved as one set, or refused with every problem listed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubspot_pipeline.api import audit
from hubspot_pipeline.api.deps import CallerDep, EngineDep
from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.hubspot_access import workspace_client
from hubspot_pipeline.db.tables import hubspot_field_mappings
from hubspot_pipeline.sync.core.mapping import validate_mapping_set
from hubspot_pipeline.sync.core.transforms import transform_nesting

router = APIRouter(tags=["configuration"])
OBJECT_TYPES = {"contact": "contacts", "company": "companies"}
MAX_MAPPINGS = 500
# The transform parser reads a step's arguments with json.loads, which recurses once per bracket: 2,000
# characters of brackets reach Python's recursion limit. No transform needs more than three levels.
MAX_TRANSFORM_NESTING = 16


class Property(BaseModel):
    name: str
    label: str | None = None
    type: str | None = None
    fieldType: str | None = None
    groupName: str | None = None
    hubspotDefined: bool | None = None
    readOnly: bool = Field(description="HubSpot computes it; it can only be read.")
    options: list[dict[str, Any]] = []


class Properties(BaseModel):
    contacts: list[Property]
    companies: list[Property]


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    coldcopy_field: str = Field(
        max_length=200, description="A lead field, custom_fields.<key>, or a+b with join_name"
    )
    hubspot_property: str = Field(max_length=200)
    direction: Literal["to_hubspot", "from_hubspot", "bidirectional"] = "bidirectional"
    transform_function: str | None = Field(
        None, max_length=2000, description="e.g. trim | lowercase, truncate(50)"
    )
    object_type: Literal["contact", "company"] = "contact"
    conflict_policy: Literal["latest", "coldcopy_wins", "hubspot_wins"] | None = None

    @field_validator("transform_function")
    @classmethod
    def _nesting(cls, value: str | None) -> str | None:
        if value is not None and transform_nesting(value) > MAX_TRANSFORM_NESTING:
            raise ValueError(
                f"brackets nest more than {MAX_TRANSFORM_NESTING} deep; a transform's arguments are a few "
                'values, e.g. truncate(50) or map{"a": "b"}'
            )
        return value


class MappingSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings: list[Mapping] = Field(max_length=MAX_MAPPINGS)


class SavedMappings(BaseModel):
    saved: int
    mappings: list[Mapping]


def _property(raw: dict[str, Any]) -> Property:
    metadata = raw.get("modificationMetadata") or {}
    return Property(
        name=str(raw.get("name")),
        label=raw.get("label"),
        type=raw.get("type"),
        fieldType=raw.get("fieldType"),
        groupName=raw.get("groupName"),
        hubspotDefined=raw.get("hubspotDefined"),
        readOnly=bool(raw.get("calculated") or metadata.get("readOnlyValue")),
        options=[option for option in raw.get("options") or [] if isinstance(option, dict)],
    )


@router.get("/properties", response_model=Properties, summary="The portal's contact and company properties")
def properties(caller: CallerDep, engine: EngineDep) -> Properties:
    with workspace_client(engine, caller.workspace_id) as client:
        contacts = client.list_properties("contacts")
        companies = client.list_properties("companies")
    return Properties(contacts=[_property(p) for p in contacts], companies=[_property(p) for p in companies])


def _problems(mappings: list[dict[str, Any]], engine: sa.Engine, caller: CallerDep) -> list[dict[str, Any]]:
    """Every problem of the set. Each object type is checked against its own HubSpot properties."""
    problems: list[dict[str, Any]] = []
    types = sorted({m["object_type"] for m in mappings})
    with workspace_client(engine, caller.workspace_id) as client:
        portal = {object_type: client.list_properties(OBJECT_TYPES[object_type]) for object_type in types}
    for object_type in types:
        indices = [i for i, m in enumerate(mappings) if m["object_type"] == object_type]
        for problem in validate_mapping_set([mappings[i] for i in indices], portal[object_type]):
            index = indices[problem.index]
            problems.append(
                {
                    "index": index,
                    "coldcopy_field": problem.coldcopy_field,
                    "hubspot_property": problem.hubspot_property,
                    "problem": problem.message,
                }
            )
    return sorted(problems, key=lambda p: p["index"])


@router.get("/mappings", response_model=SavedMappings, summary="The workspace's field mappings")
def get_mappings(caller: CallerDep, engine: EngineDep) -> SavedMappings:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(hubspot_field_mappings)
            .where(hubspot_field_mappings.c.workspace_id == caller.workspace_id)
            .order_by(hubspot_field_mappings.c.created_at, hubspot_field_mappings.c.id)
        ).all()
    mappings = [
        Mapping(
            coldcopy_field=row.coldcopy_field,
            hubspot_property=row.hubspot_property,
            direction=row.direction or "bidirectional",
            transform_function=row.transform_function,
            object_type=row.object_type,
            conflict_policy=row.conflict_policy,
        )
        for row in rows
    ]
    return SavedMappings(saved=len(mappings), mappings=mappings)


@router.post(
    "/mappings",
    response_model=SavedMappings,
    summary="Validate and save the field mappings as one set (replacing the previous set)",
    responses={422: {"description": "The set was refused; `details` lists every problem"}},
)
def post_mappings(body: MappingSet, caller: CallerDep, engine: EngineDep) -> SavedMappings:
    mappings = [mapping.model_dump() for mapping in body.mappings]
    problems = _problems(mappings, engine, caller) if mappings else []
    if problems:
        listed = "; ".join(
            f"mapping #{p['index'] + 1} ({p['coldcopy_field']} -> {p['hubspot_property']}): {p['problem']}"
            for p in problems
        )
        raise ApiError(
            422,
            "invalid_mappings",
            f"Nothing was saved; fix these and send the set again: {listed}",
            problems,
        )
    with engine.begin() as conn:
        conn.execute(
            sa.delete(hubspot_field_mappings).where(
                hubspot_field_mappings.c.workspace_id == caller.workspace_id
            )
        )
        if mappings:
            # Rows keep the order they were given in: created_at one microsecond apart.
            now = datetime.now(UTC).replace(tzinfo=None)
            conn.execute(
                sa.insert(hubspot_field_mappings),
                [
                    {**m, "workspace_id": caller.workspace_id, "created_at": now + timedelta(microseconds=i)}
                    for i, m in enumerate(mappings)
                ],
            )
        audit.record(
            conn,
            workspace_id=caller.workspace_id,
            actor=caller.actor,
            action="mappings.save",
            details={"count": len(mappings), "properties": sorted({m["hubspot_property"] for m in mappings})},
        )
    return SavedMappings(saved=len(mappings), mappings=body.mappings)
