"""The fields a condition or a property template may name: a fixed vocabulary over the lead, its engagement
and the event, resolved by lookup (never evaluated). `lead.custom_fields.<key>` reaches ColdCopy's custom
fields; every other name is one of the lists below."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LEAD_FIELDS = ("email", "first_name", "last_name", "company", "title", "phone", "website", "status")
# What the pipeline knows of the lead's engagement when the event is evaluated: its current score (the
# event's new score for a score change), the intent of its last reply, and its email events by type.
ENGAGEMENT_FIELDS = ("score", "last_intent", "opened", "clicked", "replied", "bounced")
EVENT_FIELDS = (
    "type",
    "occurred_at",
    "old_score",
    "new_score",
    "threshold",
    "direction",
    "intent",
    "confidence",
    "link_url",
    "bounce_reason",
    "campaign_id",
)
SECTIONS = {"lead": LEAD_FIELDS, "engagement": ENGAGEMENT_FIELDS, "event": EVENT_FIELDS}
CUSTOM_FIELD = re.compile(r"lead\.custom_fields\.[A-Za-z0-9_\-]{1,100}")
MISSING = object()


def known_field(name: str) -> bool:
    section, _, rest = name.partition(".")
    return rest in SECTIONS.get(section, ()) or CUSTOM_FIELD.fullmatch(name) is not None


def field_list() -> str:
    """Every field, for messages that refuse an unknown one."""
    names = [f"{section}.{name}" for section, names in SECTIONS.items() for name in names]
    return ", ".join([*names, "lead.custom_fields.<key>"])


def resolve(context: Mapping[str, Mapping[str, Any]], name: str) -> Any:
    """The value of a field in an evaluation context ({"lead": ..., "engagement": ..., "event": ...}), or
    `MISSING` when the context has none (a field of another event type, an unset custom field)."""
    section, _, rest = name.partition(".")
    value: Any = context.get(section, {})
    for part in rest.split(".", 1) if rest.startswith("custom_fields.") else [rest]:
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return MISSING if value is None else value
