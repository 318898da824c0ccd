"""Custom HubSpot properties the mappings need (contacts', and companies' when mapped): checked against the
portal's definitions, the missing ones created (text, a number after a `number` transform, a datetime after
`datetime`) in the sync's own property group."""

from __future__ import annotations

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.core.mapping import (
    DOMAIN_MAPPING,
    MappingSet,
    compile_company_mappings,
    validate_mapping_set,
)
from hubspot_pipeline.sync.job import SyncJob

PROPERTY_GROUP = "coldcopy_sync"
PROPERTY_GROUP_LABEL = "ColdCopy sync"
# (type, fieldType) of a property created for a mapping, by what its transforms produce; otherwise text.
CREATED_AS = {
    frozenset({"number", "string"}): ("number", "number"),
    frozenset({"datetime", "string"}): ("datetime", "date"),
}


class MappingError(ValueError):
    """The workspace's mappings cannot be synced as they are; the message lists each problem and the fix."""


def ensure_hubspot_properties(job: SyncJob) -> list[str]:
    """Check the mappings against the portal's contact properties (and company properties, when the
    workspace maps any) and create the missing custom ones (text, in their own group). Returns the names
    created; raises MappingError listing every bad mapping."""
    if job.client is None:
        return []
    created = _ensure(job.client, "contacts", job.mapping_set)
    if job.company_mapping_set.mappings != compile_company_mappings(None).mappings:
        created += _ensure(job.client, "companies", job.company_mapping_set)
    return created


def _ensure(client: HubSpotClient, object_type: str, mapping_set: MappingSet) -> list[str]:
    existing = client.list_properties(object_type)
    # The company key is added by compile_company_mappings, never saved: validation refuses it in a saved set.
    saved = [m.mapping for m in mapping_set.mappings if m.mapping != DOMAIN_MAPPING]
    problems = validate_mapping_set(saved, existing)
    if problems:
        raise MappingError("; ".join(str(p) for p in problems))
    names = {str(p["name"]) for p in existing}
    missing = [m for m in mapping_set.mappings if m.column not in names]
    if missing:
        client.create_property_group(object_type, PROPERTY_GROUP, PROPERTY_GROUP_LABEL)
    for compiled in missing:
        produces = compiled.pipeline.produces or frozenset({"string"})
        kind, field_type = CREATED_AS.get(produces, ("string", "text"))
        client.create_property(
            object_type,
            {
                "name": compiled.column,
                "label": compiled.column.replace("_", " ").capitalize(),
                "type": kind,
                "fieldType": field_type,
                "groupName": PROPERTY_GROUP,
                "description": f"Synced from ColdCopy's {compiled.mapping.coldcopy_field}",
            },
        )
    return [m.column for m in missing]
