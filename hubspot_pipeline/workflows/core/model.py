"""A workflow trigger as the API takes it and the store keeps it: an event type, conditions, and actions.

    {"name": "Hot leads", "event_type": "high_engagement", "threshold": 70, "cooldown_minutes": 1440,
     "conditions": [{"field": "lead.title", "op": "contains", "value": "founder"}],
     "actions": [{"type": "enroll", "workflow_id": "5150"},
                 {"type": "update_properties", "properties": {"coldcopy_hot": "yes",
                                                              "coldcopy_reason": "score {{event.new_score}}"}},
                 {"type": "custom_action", "url": "https://hooks.example.com/coldcopy"}]}

Conditions are data (a field from a fixed vocabulary, one of nine operators, a JSON value): they are compared,
never evaluated as code. What needs HubSpot or the network (does the property or the workflow exist, where
does the URL point) is checked when a trigger is saved (api/routes/workflows.py), not here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hubspot_pipeline.workflows.core.fields import field_list, known_field
from hubspot_pipeline.workflows.core.templates import template_fields

EVENT_TYPES = (
    "high_engagement",  # the score crosses the trigger's threshold upwards (once per crossing)
    "positive_reply",  # a reply whose intent is `interested`
    "unsubscribe",  # an unsubscribe event, or a reply asking to be removed
    "email_opened",
    "email_clicked",
    "email_replied",
    "email_bounced",
    "score_changed",
)
EventType = Literal[
    "high_engagement",
    "positive_reply",
    "unsubscribe",
    "email_opened",
    "email_clicked",
    "email_replied",
    "email_bounced",
    "score_changed",
]
Op = Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "contains", "exists"]
Scalar = str | int | float | bool
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
MAX_PROPERTIES = 50


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        max_length=150,
        description="lead.<field>, lead.custom_fields.<key>, engagement.<field> or event.<field>",
    )
    op: Op
    value: Scalar | list[Scalar] | None = Field(
        None, description="A list for `in`; true or false for `exists` (default true); otherwise one value."
    )

    @field_validator("field")
    @classmethod
    def _known(cls, value: str) -> str:
        if not known_field(value):
            raise ValueError(f"unknown field {value!r}; use one of {field_list()}")
        return value

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op == "in":
            if not isinstance(self.value, list) or not self.value or len(self.value) > 100:
                raise ValueError(f"`in` on {self.field} needs a list of 1 to 100 values")
        elif self.op == "exists":
            if self.value is not None and not isinstance(self.value, bool):
                raise ValueError(f"`exists` on {self.field} takes true or false (or no value)")
        elif isinstance(self.value, list) or self.value is None:
            raise ValueError(f"`{self.op}` on {self.field} needs one value (not a list)")
        elif self.op in ("gt", "gte", "lt", "lte") and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float | str)
        ):
            raise ValueError(f"`{self.op}` on {self.field} needs a number (or an ISO date as text)")
        return self


class EnrollAction(BaseModel):
    """Enrol the lead's contact in a HubSpot contact workflow. Give the workflow's id as HubSpot's new UI
    shows it (`flow_id`) or its legacy v2 id (`workflow_id`): it is checked and mapped when saved."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["enroll"]
    flow_id: str | None = Field(None, pattern=r"^\d{1,20}$")
    workflow_id: str | None = Field(None, pattern=r"^\d{1,20}$")

    @model_validator(mode="after")
    def _one_id(self) -> EnrollAction:
        if not self.flow_id and not self.workflow_id:
            raise ValueError(
                "an enroll action names its workflow: flow_id (new UI) or workflow_id (legacy v2)"
            )
        return self


class PropertyUpdateAction(BaseModel):
    """Set contact properties; a value may name lead or event fields as {{lead.first_name}}, {{event.intent}}."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["update_properties"]
    properties: dict[
        Annotated[str, Field(pattern=r"^[a-z0-9_]{1,100}$")], Annotated[str, Field(max_length=1000)]
    ]

    @field_validator("properties")
    @classmethod
    def _templates(cls, value: dict[str, str]) -> dict[str, str]:
        if not value or len(value) > MAX_PROPERTIES:
            raise ValueError(f"name 1 to {MAX_PROPERTIES} contact properties")
        for name, template in value.items():
            for field in template_fields(template):
                if not known_field(field):
                    raise ValueError(
                        f"property {name}: unknown field {{{{{field}}}}}; use one of {field_list()}"
                    )
        return value


class CustomAction(BaseModel):
    """POST a signed JSON body to the workspace's URL (https; see docs/architecture.md, "Workflow triggers")."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["custom_action"]
    url: str = Field(min_length=8, max_length=2000)


Action = Annotated[EnrollAction | PropertyUpdateAction | CustomAction, Field(discriminator="type")]


class TriggerDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    enabled: bool = True
    event_type: EventType
    threshold: int | None = Field(
        None,
        ge=1,
        le=100,
        description="high_engagement only: the score (0-100) whose upward crossing fires it.",
    )
    cooldown_minutes: int = Field(
        0, ge=0, le=525_600, description="After firing for a lead, the trigger ignores that lead this long."
    )
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)

    @model_validator(mode="after")
    def _threshold(self) -> TriggerDefinition:
        if self.event_type == "high_engagement" and self.threshold is None:
            raise ValueError(
                "a high_engagement trigger needs a threshold (the score, 1 to 100, that fires it)"
            )
        if self.event_type != "high_engagement" and self.threshold is not None:
            raise ValueError(
                "only high_engagement triggers take a threshold; use a condition on event.new_score"
            )
        return self

    def enroll_actions(self) -> list[EnrollAction]:
        return [a for a in self.actions if isinstance(a, EnrollAction)]

    def property_names(self) -> set[str]:
        return {name for a in self.actions if isinstance(a, PropertyUpdateAction) for name in a.properties}

    def custom_urls(self) -> list[str]:
        return [a.url for a in self.actions if isinstance(a, CustomAction)]


def action_label(index: int, action: Any) -> str:
    """The key of an action's outcome in an execution's `response`: its position and type."""
    return f"{index}:{action.type}"
