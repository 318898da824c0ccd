"""Companies as ColdCopy sees them: a lead's company is its website's domain (or, failing that, its email's,
unless a free-mail one), and the company's mapped properties are, per property, the value most of its leads
give (ties: the first lead read), through each company mapping's transform. Pure."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pandas as pd

from hubspot_pipeline.sync.core.leads import Leads
from hubspot_pipeline.sync.core.mapping import COMPANY_KEY, EMAIL, MappingSet, lead_field_values

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
NAME = "name"  # HubSpot's company name: the domain stands in when no lead gives one


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
    """The id a company's pair state is kept under (`hubspot_sync_status`, entity_type `company`)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"hubspot-pipeline:{workspace_id}:{domain}")


def company_values(leads: pd.DataFrame, mapping_set: MappingSet) -> dict[str, dict[str, str]]:
    """domain -> {domain, each company mapping's column: the value most of the domain's leads give, "" when
    none does} for the leads (rows as the store reads them) that have a domain."""
    websites, emails = lead_field_values(leads, "website"), lead_field_values(leads, EMAIL)
    domains = [domain_of(w, e) for w, e in zip(websites, emails, strict=True)]
    leads = leads.assign(**{"\x00domain": domains})
    leads = leads[leads["\x00domain"] != ""]
    if leads.empty:
        return {}
    canonical = Leads.of(leads.drop(columns=["\x00domain"]), mapping_set).canonical
    canonical = canonical.assign(**{"\x00domain": leads["\x00domain"].to_numpy()})
    wanted: dict[str, dict[str, str]] = {}
    for domain, group in canonical.groupby("\x00domain", sort=True):
        row = {COMPANY_KEY: str(domain)}
        for column in mapping_set.columns:
            top = Counter(v for v in group[column] if v).most_common(1)
            row[column] = top[0][0] if top else (str(domain) if column == NAME else "")
        wanted[str(domain)] = row
    return wanted


def hash_columns(mapping_set: MappingSet) -> list[str]:
    """The columns a company's hash covers: its key and every mapped property."""
    return [COMPANY_KEY, *mapping_set.columns]
