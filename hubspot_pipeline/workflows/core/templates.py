"""Property values that name fields: `"score {{event.new_score}} for {{lead.first_name}}"`. A placeholder is
a field name from fields.py and nothing else (no expressions, filters or code); a field without a value
renders as the empty string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hubspot_pipeline.workflows.core.fields import MISSING, resolve

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def template_fields(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def render(template: str, context: Mapping[str, Mapping[str, Any]]) -> str:
    def value(match: re.Match[str]) -> str:
        found = resolve(context, match.group(1))
        if found is MISSING:
            return ""
        if isinstance(found, bool):
            return "true" if found else "false"
        return str(found)

    return PLACEHOLDER.sub(value, template)
