"""Field mappings: which ColdCopy lead field goes to which HubSpot property, in which direction, through
which transform; and the canonical columns both sides are turned into before they are compared.

The canonical value of a mapping is the value as HubSpot should hold it: the lead's value put through the
mapping's transform, or the contact's property value as HubSpot returns it. Values are strings; "" means
empty (HubSpot clears a property with ""). The contact email is always the match key: a mapping
`email -> email` (bidirectional, `trim | lowercase`) is added when a set does not have one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from hubspot_pipeline.sync.core.transforms import Pipeline, TransformError, parse_transform

DIRECTIONS = ("to_hubspot", "from_hubspot", "bidirectional")
POLICIES = ("latest", "coldcopy_wins", "hubspot_wins")
OBJECT_TYPES = ("contact", "company")
# Columns of `leads` a mapping may name; custom fields are `custom_fields.<key>`.
LEAD_FIELDS = ("email", "first_name", "last_name", "company", "title", "phone", "website", "status")
CUSTOM_PREFIX = "custom_fields."
# A lead's published engagement (table `lead_engagement`, written by the scoring): mappings may push these to
# HubSpot (to_hubspot only: the scoring computes them); a change enters the lead outbox like any lead edit.
ENGAGEMENT_FIELDS = (
    "engagement.score",
    "engagement.last_engaged_at",
    "engagement.last_reply_intent",
    "engagement.opens_30d",
    "engagement.clicks_30d",
    "engagement.replies_30d",
)
EMAIL = "email"


@dataclass(frozen=True)
class FieldMapping:
    """One row of `hubspot_field_mappings`."""

    coldcopy_field: str
    hubspot_property: str
    direction: str = "bidirectional"
    transform_function: str | None = None
    object_type: str = "contact"
    conflict_policy: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | FieldMapping) -> FieldMapping:
        if isinstance(row, FieldMapping):
            return row
        return cls(
            coldcopy_field=str(row.get("coldcopy_field") or ""),
            hubspot_property=str(row.get("hubspot_property") or ""),
            direction=str(row.get("direction") or "bidirectional"),
            transform_function=row.get("transform_function"),
            object_type=str(row.get("object_type") or "contact"),
            conflict_policy=row.get("conflict_policy"),
        )

    @property
    def sources(self) -> tuple[str, ...]:
        """The lead fields this mapping reads: several when joined with `+` (`first_name+last_name`)."""
        return tuple(part.strip() for part in self.coldcopy_field.split("+"))

    @property
    def pushes(self) -> bool:
        return self.direction in ("to_hubspot", "bidirectional")

    @property
    def pulls(self) -> bool:
        return self.direction in ("from_hubspot", "bidirectional")


EMAIL_MAPPING = FieldMapping(EMAIL, EMAIL, "bidirectional", "trim | lowercase")

# What a workspace syncs before anyone edits its mappings.
DEFAULT_CONTACT_MAPPINGS: tuple[FieldMapping, ...] = (
    EMAIL_MAPPING,
    FieldMapping("first_name", "firstname", "bidirectional", "trim"),
    FieldMapping("last_name", "lastname", "bidirectional", "trim"),
    FieldMapping("company", "company", "bidirectional", "trim"),
    FieldMapping("title", "jobtitle", "bidirectional", "trim"),
    FieldMapping("phone", "phone", "bidirectional", "trim"),
    FieldMapping("website", "website", "bidirectional", "trim"),
    FieldMapping("status", "coldcopy_lead_status", "to_hubspot"),
    # The engagement scoring's results, as properties the sync creates (issue 15).
    FieldMapping("engagement.score", "coldcopy_engagement_score", "to_hubspot", "number"),
    FieldMapping("engagement.last_engaged_at", "coldcopy_last_engaged_at", "to_hubspot", "datetime"),
    FieldMapping("engagement.last_reply_intent", "coldcopy_last_reply_intent", "to_hubspot"),
    FieldMapping("engagement.opens_30d", "coldcopy_opens_30d", "to_hubspot", "number"),
    FieldMapping("engagement.clicks_30d", "coldcopy_clicks_30d", "to_hubspot", "number"),
    FieldMapping("engagement.replies_30d", "coldcopy_replies_30d", "to_hubspot", "number"),
)


# A company's key: its domain (the `companies` row's, derived from its leads' websites or non-free-mail
# email domains). ColdCopy's is never changed by the sync: a HubSpot-side edit of a company's domain stays
# in HubSpot. Added to every company mapping set, first; never mapped by a workspace.
COMPANY_KEY = "domain"
DOMAIN_MAPPING = FieldMapping(
    COMPANY_KEY, COMPANY_KEY, "to_hubspot", "trim | lowercase", object_type="company"
)
# The fields of a `companies` row a company mapping may read or write; `company` (a lead's company name,
# which company mappings read before ColdCopy kept companies) is taken as `name`.
COMPANY_FIELDS = ("name",)
COMPANY_NAME_ALIAS = "company"
# What a workspace syncs before anyone maps company properties: the name, both ways.
DEFAULT_COMPANY_MAPPINGS: tuple[FieldMapping, ...] = (
    FieldMapping("name", "name", "bidirectional", None, object_type="company"),
)


@dataclass(frozen=True)
class CompiledMapping:
    """A contact mapping whose transform is parsed, with the policy that applies to it."""

    mapping: FieldMapping
    pipeline: Pipeline
    policy: str

    @property
    def column(self) -> str:
        """The canonical column: the HubSpot property name."""
        return self.mapping.hubspot_property


@dataclass(frozen=True)
class MappingSet:
    """The compiled mappings of one object type of a workspace, its key first (contacts: the email,
    companies: the domain)."""

    mappings: tuple[CompiledMapping, ...]

    @property
    def key(self) -> str:
        """The canonical column records are matched by: the first mapping's."""
        return self.mappings[0].column

    @property
    def columns(self) -> list[str]:
        return [m.column for m in self.mappings]

    @property
    def pushed_columns(self) -> list[str]:
        """Columns that flow from ColdCopy to HubSpot: the lead hash covers exactly these."""
        return [m.column for m in self.mappings if m.mapping.pushes]

    @property
    def hubspot_properties(self) -> list[str]:
        return self.columns

    def by_column(self, column: str) -> CompiledMapping:
        for compiled in self.mappings:
            if compiled.column == column:
                return compiled
        raise KeyError(column)


def compile_mappings(
    rows: Iterable[Mapping[str, Any] | FieldMapping] | None, default_policy: str = "latest"
) -> MappingSet:
    """Compile a workspace's contact mappings (defaults when it has none). Call validate_mapping_set first:
    this raises TransformError on the first bad mapping."""
    mappings = [FieldMapping.from_row(row) for row in rows] if rows else list(DEFAULT_CONTACT_MAPPINGS)
    contact = [m for m in mappings if m.object_type == "contact"] or list(DEFAULT_CONTACT_MAPPINGS)
    if not any(m.hubspot_property == EMAIL for m in contact):
        contact.insert(0, EMAIL_MAPPING)
    contact.sort(key=lambda m: m.hubspot_property != EMAIL)
    return MappingSet(_compiled(contact, default_policy))


def compile_company_mappings(
    rows: Iterable[Mapping[str, Any] | FieldMapping] | None, default_policy: str = "latest"
) -> MappingSet:
    """Compile a workspace's company mappings (DEFAULT_COMPANY_MAPPINGS when it has none), DOMAIN_MAPPING
    first. They read and write `companies` rows: `company` is read as `name`; a mapping saved before
    ColdCopy kept companies that reads another lead field is left out (validate_mapping_set refuses it)."""
    mappings = [FieldMapping.from_row(row) for row in rows] if rows else []
    company = [
        replace(m, coldcopy_field="name") if m.coldcopy_field == COMPANY_NAME_ALIAS else m
        for m in mappings
        if m.object_type == "company" and m.hubspot_property != COMPANY_KEY
    ]
    company = [m for m in company if all(_is_company_field(s) for s in m.sources)]
    return MappingSet(_compiled([DOMAIN_MAPPING, *(company or DEFAULT_COMPANY_MAPPINGS)], default_policy))


def _compiled(mappings: list[FieldMapping], default_policy: str) -> tuple[CompiledMapping, ...]:
    return tuple(
        CompiledMapping(m, parse_transform(m.transform_function), m.conflict_policy or default_policy)
        for m in mappings
    )


# --- canonicalisation -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def lead_field_values(leads: pd.DataFrame, field: str) -> pd.Series:
    """A lead field as strings ("" for empty): a column, or `custom_fields.<key>` (a column of that name
    when the reader extracted it already, else looked up in the `custom_fields` dicts)."""
    if field.startswith(CUSTOM_PREFIX) and field not in leads.columns:
        key = field[len(CUSTOM_PREFIX) :]
        return (
            leads["custom_fields"]
            .map(lambda d: _text(d.get(key)) if isinstance(d, dict) else "")
            .astype(object)
        )
    if field in ENGAGEMENT_FIELDS and field not in leads.columns:  # a lead still to create has none
        return pd.Series([""] * len(leads), index=leads.index, dtype=object)
    column = leads[field]
    if column.dtype == object and not column.hasnans:
        return column
    return column.astype(object).where(column.notna(), "").astype(object)


def _source_values(leads: pd.DataFrame, mapping: FieldMapping) -> pd.Series:
    sources = mapping.sources
    if len(sources) == 1:
        return lead_field_values(leads, sources[0])
    parts = [lead_field_values(leads, source).str.strip() for source in sources]
    joined = parts[0]
    for part in parts[1:]:
        joined = (joined + " " + part).str.strip()
    return joined.astype(object)


def canonical_leads(leads: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    """Leads (columns of `leads`, `id` included) as canonical columns, indexed by lead id as text."""
    index = leads["id"].astype(str)
    data = {}
    for compiled in mapping_set.mappings:
        values = _source_values(leads, compiled.mapping)
        data[compiled.column] = compiled.pipeline.to_hubspot(values.reset_index(drop=True)).to_numpy()
    return pd.DataFrame(data, index=pd.Index(index.to_numpy(), name="lead_id", dtype=object), dtype=object)


def contact_records_frame(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """HubSpot records (`id`, `properties`) as a frame of `id` and the properties `columns` (None where a
    record has none), built column by column: what canonical_contacts reads of a frame of every property,
    without pandas building one from a dict per record (seconds per 100,000 contacts)."""
    props = [r.get("properties") or {} for r in records]
    data: dict[str, list[Any]] = {
        "id": [p["id"] if "id" in p else r["id"] for r, p in zip(records, props, strict=True)]
    }
    for column in columns:
        if column != "id":
            data[column] = [p.get(column) for p in props]
    return pd.DataFrame(data, dtype=object)


def canonical_contacts(contacts: pd.DataFrame, mapping_set: MappingSet) -> pd.DataFrame:
    """HubSpot records (`id` plus property columns, raw strings) as canonical columns, indexed by id.

    The key (email, domain) is trimmed and lowercased as HubSpot compares it; other values are taken as
    HubSpot holds them.
    """
    index = pd.Index(contacts["id"].astype(str).to_numpy(), name="hubspot_id", dtype=object)
    data = {}
    for column in mapping_set.columns:
        raw = contacts[column] if column in contacts else pd.Series([""] * len(contacts), dtype=object)
        present = raw.astype(object).where(raw.notna(), "")
        # HubSpot sends text: when every value is a str already, _text would return each one as it is.
        if pd.api.types.infer_dtype(present, skipna=False) == "string":
            data[column] = present.to_numpy()
        else:
            data[column] = present.map(_text).to_numpy()
    frame = pd.DataFrame(data, index=index, dtype=object)
    frame[mapping_set.key] = frame[mapping_set.key].str.strip().str.lower()
    return frame


def lead_updates_from_canonical(values: pd.Series, compiled: CompiledMapping) -> dict[str, pd.Series]:
    """The lead field values to write for canonical values pulled from HubSpot, by lead field."""
    back = compiled.pipeline.from_hubspot(values.astype(object))
    sources = compiled.mapping.sources
    if len(sources) == 1:
        return {sources[0]: back}
    pieces = back.str.strip().str.split(" ", n=len(sources) - 1, expand=True)
    result = {}
    for position, source in enumerate(sources):
        piece = pieces[position] if position in pieces else pd.Series("", index=back.index)
        result[source] = piece.fillna("").astype(object)
    return result


# --- validation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingProblem:
    """What is wrong with one mapping (by its position in the list given) and what to do about it."""

    index: int
    coldcopy_field: str
    hubspot_property: str
    message: str

    def __str__(self) -> str:
        return f"mapping #{self.index + 1} ({self.coldcopy_field} -> {self.hubspot_property}): {self.message}"


# HubSpot properties whose value HubSpot computes: never written by the sync.
READ_ONLY_PROPERTIES = frozenset(
    {
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
        "hs_merged_object_ids",
        "hs_calculated_merged_vids",
        "hs_additional_emails",
        "hs_all_contact_vids",
    }
)
CUSTOM_PROPERTY_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
TEXT_TYPES = frozenset({"string", "phone_number", "enumeration"})


def _is_custom_field(name: str) -> bool:
    key = name[len(CUSTOM_PREFIX) :] if name.startswith(CUSTOM_PREFIX) else ""
    return bool(key) and all(c.isalnum() or c in "_-" for c in key)


def _is_lead_field(name: str) -> bool:
    return name in LEAD_FIELDS or name in ENGAGEMENT_FIELDS or _is_custom_field(name)


def _is_company_field(name: str) -> bool:
    return name in COMPANY_FIELDS or name == COMPANY_NAME_ALIAS or _is_custom_field(name)


def _properties_by_name(hubspot_properties: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> dict:
    if hubspot_properties is None:
        return {}
    if isinstance(hubspot_properties, Mapping):
        return {name: dict(prop or {}) for name, prop in hubspot_properties.items()}
    return {str(prop["name"]): dict(prop) for prop in hubspot_properties}


def _read_only(prop: Mapping[str, Any], name: str) -> bool:
    meta = prop.get("modificationMetadata") or {}
    return name in READ_ONLY_PROPERTIES or bool(prop.get("calculated")) or bool(meta.get("readOnlyValue"))


def _mapping_problems(
    m: FieldMapping, prop: Mapping[str, Any] | None, pipeline: Pipeline | None
) -> list[str]:
    problems = []
    if m.direction not in DIRECTIONS:
        problems.append(f"direction {m.direction!r} is not one of {', '.join(DIRECTIONS)}")
    if m.object_type not in OBJECT_TYPES:
        problems.append(f"object_type {m.object_type!r} is not one of {', '.join(OBJECT_TYPES)}")
    if m.conflict_policy is not None and m.conflict_policy not in POLICIES:
        problems.append(
            f"conflict_policy {m.conflict_policy!r} is not one of {', '.join(POLICIES)}, or leave it empty"
        )
    bad_sources = [s for s in m.sources if not _is_lead_field(s)]
    if m.object_type == "company":
        bad_sources = []  # _company_problems
    if bad_sources:
        problems.append(
            f"ColdCopy field {', '.join(map(repr, bad_sources))} does not exist; use one of "
            f"{', '.join(LEAD_FIELDS)}, custom_fields.<key> or {', '.join(ENGAGEMENT_FIELDS)}"
        )
    if m.pulls and any(source in ENGAGEMENT_FIELDS for source in m.sources):
        problems.append("engagement fields are computed by the scoring: set direction to to_hubspot")
    if len(m.sources) > 1 and (
        pipeline is None or not pipeline.steps or pipeline.steps[0].name != "join_name"
    ):
        problems.append("several ColdCopy fields joined with '+' need the transform to start with join_name")
    if m.object_type == "company":
        problems.extend(_company_problems(m))
    elif m.hubspot_property == EMAIL and (m.sources != (EMAIL,) or m.direction != "bidirectional"):
        problems.append(
            "the HubSpot email is the match key: map it only from the lead's email, bidirectional"
        )
    if pipeline is not None and m.pulls and not pipeline.reversible:
        problems.append(
            f"transform `{pipeline}` cannot be reversed, so it cannot bring values back from HubSpot; "
            "set direction to to_hubspot or use a reversible transform"
        )
    if prop is None:
        name = m.hubspot_property
        if (
            not name
            or name[0].isdigit()
            or not set(name) <= CUSTOM_PROPERTY_NAME_CHARS
            or name.startswith("hs_")
        ):
            problems.append(
                f"HubSpot property {name!r} does not exist and cannot be created with that name; pick "
                "an existing property or a name of lowercase letters, digits and _ not starting with hs_"
            )
        return problems
    if m.pushes and _read_only(prop, m.hubspot_property):
        problems.append("HubSpot computes this property and refuses writes; set direction to from_hubspot")
    kind = str(prop.get("type") or "string")
    produces = pipeline.produces if pipeline is not None else None
    if kind == "date" and (produces is None or kind not in produces) and m.pushes:
        problems.append('HubSpot property is a date; add a date("<format of the ColdCopy value>") transform')
    if kind == "datetime" and (produces is None or kind not in produces) and m.pushes:
        problems.append("HubSpot property is a datetime; add the `datetime` transform (ISO 8601 values)")
    if kind == "number" and (produces is None or "number" not in produces) and m.pushes:
        problems.append("HubSpot property is a number; add the `number` transform")
    if kind == "bool" and (produces is None or "bool" not in produces) and m.pushes:
        problems.append("HubSpot property is a checkbox (bool); add the `bool` transform")
    options = [o.get("value") for o in prop.get("options") or [] if isinstance(o, Mapping)]
    if kind == "enumeration" and options and m.pushes and not prop.get("externalOptions"):
        mapped = [s for s in (pipeline.steps if pipeline else ()) if s.name == "map"]
        if not mapped:
            problems.append(
                f"HubSpot property is a dropdown with options {options[:10]}; add a map({{...}}) "
                "transform from ColdCopy values to those options"
            )
        else:
            table = mapped[-1].args[0]
            assert isinstance(table, dict)
            unknown = sorted(v for v in table.values() if v not in options)
            if unknown:
                problems.append(
                    f"map values {unknown} are not options of the HubSpot property; use {options[:10]}"
                )
    return problems


def _company_problems(m: FieldMapping) -> list[str]:
    problems = []
    bad = [s for s in m.sources if not _is_company_field(s)]
    if bad:
        problems.append(
            f"ColdCopy company field {', '.join(map(repr, bad))} does not exist; a company mapping reads "
            "and writes the company's name or custom_fields.<key> (table companies)"
        )
    if len(m.sources) > 1:
        problems.append("a company mapping reads one company field; remove the '+'")
    if m.hubspot_property == COMPANY_KEY:
        problems.append(
            "the company domain is the match key, taken from the lead's website (or its email's domain); "
            "remove this mapping"
        )
    return problems


def _written_field(m: FieldMapping, source: str) -> str:
    """The field a pulling mapping writes (a company's `company` is its `name`)."""
    return "name" if m.object_type == "company" and source == COMPANY_NAME_ALIAS else source


def validate_mapping_set(
    mappings: Sequence[Mapping[str, Any] | FieldMapping],
    hubspot_properties: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> list[MappingProblem]:
    """Check a workspace's mappings before they are saved; an empty list means they are good.

    `mappings`: dicts (or FieldMapping) with the keys of `hubspot_field_mappings` (coldcopy_field,
    hubspot_property, direction, transform_function, and optionally object_type, conflict_policy).
    `hubspot_properties`: the portal's properties for the mapped object types as returned by
    `GET /crm/v3/properties/{objectType}` (a list of property objects, or a dict by name). A property that
    does not exist is fine when its name can be created (the sync creates it, as text, in its own group).
    """
    properties = _properties_by_name(hubspot_properties)
    problems: list[MappingProblem] = []
    seen_properties: dict[tuple[str, str], int] = {}
    pulled_fields: dict[tuple[str, str], int] = {}
    for index, row in enumerate(mappings):
        m = FieldMapping.from_row(row)
        messages: list[str] = []
        pipeline: Pipeline | None = None
        try:
            pipeline = parse_transform(m.transform_function)
        except TransformError as error:
            messages.append(f"transform: {error}")
        if not m.coldcopy_field or not m.hubspot_property:
            messages.append("both coldcopy_field and hubspot_property must be filled in")
        else:
            messages.extend(_mapping_problems(m, properties.get(m.hubspot_property), pipeline))
            key = (m.object_type, m.hubspot_property)
            if key in seen_properties:
                messages.append(
                    f"HubSpot property is already mapped by mapping #{seen_properties[key] + 1}; "
                    "map each property once"
                )
            seen_properties.setdefault(key, index)
            if m.pulls:
                for source in m.sources:
                    written = (m.object_type, _written_field(m, source))
                    if written in pulled_fields:
                        messages.append(
                            f"ColdCopy field {source!r} is already filled from HubSpot by mapping "
                            f"#{pulled_fields[written] + 1}; only one mapping may write it"
                        )
                    pulled_fields.setdefault(written, index)
        problems.extend(
            MappingProblem(index, m.coldcopy_field, m.hubspot_property, text) for text in messages
        )
    return problems
