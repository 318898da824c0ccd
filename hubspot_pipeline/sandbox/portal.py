"""One HubSpot account (portal): its records, property definitions, associations, timeline events,
workflows and rate-limit budget. Portals never share data."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hubspot_pipeline.sandbox.associations_store import AssociationStore
from hubspot_pipeline.sandbox.object_types import OBJECT_TYPES, ObjectType
from hubspot_pipeline.sandbox.property_defs import DEFAULT_GROUPS, PropertyDef, default_properties
from hubspot_pipeline.sandbox.rate_limits import PortalBudget
from hubspot_pipeline.sandbox.records import ObjectStore

FIRST_RECORD_ID = 100_001


@dataclass
class PropertyGroup:
    name: str
    label: str
    display_order: int = -1
    archived: bool = False


@dataclass
class Flow:
    id: str
    workflow_id: int  # the legacy v2 id enrollment paths use
    name: str
    object_type_id: str = "0-1"
    is_enabled: bool = True
    created_ms: int = 0
    updated_ms: int = 0
    revision_id: str = "1"


@dataclass
class Enrollment:
    workflow_id: int
    email: str
    contact_id: int
    enrolled_ms: int
    active: bool = True


@dataclass
class TimelineEvent:
    event_template_id: str
    id: str
    object_type: str
    object_id: int
    tokens: dict[str, str]
    timestamp_ms: int
    created_ms: int
    email: str | None = None
    domain: str | None = None
    extra_data: Any = None
    timeline_iframe: dict[str, Any] | None = None


@dataclass
class Portal:
    hub_id: int
    private_app_tokens: set[str]
    emit: Callable[..., None] = field(default=lambda *args, **kwargs: None, repr=False)
    # Whether any webhook could be sent; lets writes skip building events nobody will receive.
    listening: Callable[[], bool] = field(default=lambda: False, repr=False)

    def __post_init__(self) -> None:
        self.properties: dict[str, dict[str, PropertyDef]] = {
            t.name: {p.name: p for p in default_properties(t.name)} for t in OBJECT_TYPES
        }
        self.groups: dict[str, dict[str, PropertyGroup]] = {
            t.name: {
                name: PropertyGroup(name, label, index)
                for index, (name, label) in enumerate(DEFAULT_GROUPS[t.name])
            }
            for t in OBJECT_TYPES
        }
        self.stores: dict[str, ObjectStore] = {
            t.name: ObjectStore(
                unique_properties={"email"} if t.name == "contacts" else set(),
                case_insensitive={"email"},
                aliases={"email": "hs_additional_emails"} if t.name == "contacts" else None,
            )
            for t in OBJECT_TYPES
        }
        self.associations = AssociationStore()
        self.timeline_events: dict[tuple[str, str], TimelineEvent] = {}
        self.flows: dict[str, Flow] = {}
        self.enrollments: list[Enrollment] = []
        # GDPR deletes asked (objectId, idProperty, the id deleted or None, when) and the blocklisted emails.
        self.gdpr_deletions: list[dict[str, Any]] = []
        self.gdpr_blocklist: set[str] = set()
        self.budget = PortalBudget()
        self._ids = itertools.count(FIRST_RECORD_ID)

    def next_id(self) -> int:
        return next(self._ids)

    def store(self, object_type: ObjectType) -> ObjectStore:
        return self.stores[object_type.name]

    def property_defs(self, object_type: ObjectType) -> dict[str, PropertyDef]:
        return self.properties[object_type.name]

    def flow_by_workflow_id(self, workflow_id: int) -> Flow | None:
        return next((flow for flow in self.flows.values() if flow.workflow_id == workflow_id), None)
