"""Companies as ColdCopy keeps them (table `companies`, one per domain of a workspace): a lead's company is
its website's domain (or, failing that, its email's, unless a free-mail one); a company ColdCopy does not
have yet is made from the leads that name its domain: its name the `company` most of them give (ties: the
first read; the domain when none gives one), each custom field a company mapping reads likewise. After that
the company's values are its own: edited in ColdCopy or pulled from HubSpot, never re-derived. Pure."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hubspot_pipeline.sync.core.mapping import CUSTOM_PREFIX, MappingSet

FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
        "yandex.com",
    }
)
HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?([^/:?#]+)")


def domain_of(website: str, email: str) -> str:
    """`https://www.Acme.com/about` -> `acme.com`; else the email's domain unless free mail; else ""."""
    match = HOST.match((website or "").strip().lower())
    host = match.group(1) if match else ""
    host = host[4:] if host.startswith("www.") else host
    if "." in host:
        return host.strip(".")
    mail = (email or "").strip().lower().rpartition("@")[2]
    return mail if "." in mail and mail not in FREE_MAIL else ""


def company_id(workspace_id: uuid.UUID, domain: str) -> uuid.UUID:
    """A company's id (`companies.id`), which its pair state is kept under (`hubspot_sync_status`,
    entity_type `company`)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"hubspot-pipeline:{workspace_id}:{domain}")


@dataclass
class NewCompany:
    """A company to add to `companies`, made from the leads that name its domain."""

    name: str
    custom_fields: dict[str, str]
    lead_ids: list[str] = field(default_factory=list)


def custom_keys(mapping_set: MappingSet) -> list[str]:
    """The custom field keys the company mappings read."""
    return sorted(
        {
            s[len(CUSTOM_PREFIX) :]
            for m in mapping_set.mappings
            for s in m.mapping.sources
            if s.startswith(CUSTOM_PREFIX)
        }
    )


def new_companies(leads: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> dict[str, NewCompany]:
    """domain -> the company its leads make. leads: rows with id, email, website, company, custom_fields;
    keys: the custom fields to fill (custom_keys)."""
    names: dict[str, Counter[str]] = {}
    customs: dict[str, dict[str, Counter[str]]] = {}
    members: dict[str, list[str]] = {}
    keys = list(keys)
    for lead in leads:
        domain = domain_of(str(lead.get("website") or ""), str(lead.get("email") or ""))
        if not domain:
            continue
        members.setdefault(domain, []).append(str(lead["id"]))
        company = str(lead.get("company") or "")
        if company.strip():
            names.setdefault(domain, Counter())[company] += 1
        custom = lead.get("custom_fields") or {}
        for key in keys:
            value = custom.get(key) if isinstance(custom, Mapping) else None
            if value not in (None, ""):
                customs.setdefault(domain, {}).setdefault(key, Counter())[str(value)] += 1
    out = {}
    for domain, lead_ids in members.items():
        top = names.get(domain, Counter()).most_common(1)
        values = {k: c.most_common(1)[0][0] for k, c in customs.get(domain, {}).items()}
        out[domain] = NewCompany(top[0][0] if top else domain, values, lead_ids)
    return out
