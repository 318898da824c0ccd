"""The app's timeline event templates: one per email event type that becomes a timeline event, with the
tokens its events fill in. The hash of a definition tells whether the template in HubSpot is up to date."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES

OBJECT_TYPE = "contacts"


@dataclass(frozen=True)
class Token:
    name: str
    label: str
    type: str  # string | number | date | enumeration

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": self.type, "options": []}


@dataclass(frozen=True)
class TemplateDefinition:
    event_type: str
    name: str
    header_template: str
    detail_template: str
    tokens: tuple[Token, ...]

    def token_names(self) -> set[str]:
        return {token.name for token in self.tokens}

    def as_json(self) -> dict[str, Any]:
        """The body of POST .../event-templates (PUT adds the template's id)."""
        return {
            "name": self.name,
            "objectType": OBJECT_TYPE,
            "headerTemplate": self.header_template,
            "detailTemplate": self.detail_template,
            "tokens": [token.as_json() for token in self.tokens],
        }

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()[:32]


CAMPAIGN = Token("campaign", "Campaign", "string")
STEP = Token("step", "Campaign step", "number")
SUBJECT = Token("subject", "Subject", "string")
URL = Token("url", "Link", "string")
BOUNCE_REASON = Token("bounce_reason", "Bounce reason", "string")

# Handlebars, as HubSpot renders it: a token left out (content level "metadata") drops its line.
_SUBJECT_LINE = "{{#if subject}}Subject: {{subject}}\n{{/if}}"
_CAMPAIGN_LINE = "{{#if campaign}}Campaign: {{campaign}}{{#if step}}, step {{step}}{{/if}}\n{{/if}}"


def _definition(
    event_type: str, verb: str, extra: tuple[Token, ...] = (), extra_lines: str = ""
) -> TemplateDefinition:
    return TemplateDefinition(
        event_type=event_type,
        name=f"ColdCopy email {event_type}",
        header_template=f"{verb} {{{{#if subject}}}}“{{{{subject}}}}”{{{{else}}}}a ColdCopy email{{{{/if}}}}",
        detail_template=_CAMPAIGN_LINE + _SUBJECT_LINE + extra_lines,
        tokens=(CAMPAIGN, STEP, SUBJECT, *extra),
    )


TEMPLATES: dict[str, TemplateDefinition] = {
    "delivered": _definition("delivered", "Delivered"),
    "opened": _definition("opened", "Opened"),
    "clicked": _definition("clicked", "Clicked a link in", (URL,), "{{#if url}}Link: {{url}}\n{{/if}}"),
    "bounced": _definition(
        "bounced", "Bounced:", (BOUNCE_REASON,), "{{#if bounce_reason}}Reason: {{bounce_reason}}\n{{/if}}"
    ),
    "unsubscribed": _definition("unsubscribed", "Unsubscribed after"),
}
assert set(TEMPLATES) == set(TIMELINE_TYPES)


def same_template(definition: TemplateDefinition, found: dict[str, Any]) -> bool:
    """Whether a template read from HubSpot (GET .../event-templates) matches the definition."""
    tokens = sorted(
        (t.get("name"), t.get("label"), t.get("type"), t.get("objectPropertyName"))
        for t in found.get("tokens", [])
    )
    wanted = sorted((t.name, t.label, t.type, None) for t in definition.tokens)
    return (
        found.get("name") == definition.name
        and found.get("objectType") == OBJECT_TYPE
        and found.get("headerTemplate") == definition.header_template
        and found.get("detailTemplate") == definition.detail_template
        and tokens == wanted
    )
