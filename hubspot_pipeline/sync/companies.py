"""Companies by domain, and each pushed contact associated with its company.

A lead's company is its website's domain (or, failing that, its email's, unless a free-mail one), named by
the leads' most common `company`. HubSpot's `domain` is not unique, so a company is found by searching
its domain before one is created; the HubSpot id is then kept in `hubspot_sync_status` (entity_type
`company`, entity_id a UUID derived from workspace and domain) with the agreed name and domain, so later
runs neither search nor write unless the name changed. Contacts created this run, or whose website or
company was pushed, are associated with their company (HubSpot's default contact-to-company association).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status
from hubspot_pipeline.sync.core.hashing import hash_agreed
from hubspot_pipeline.sync.core.leads import Leads
from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.push import PushOutcome
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads

ENTITY = "company"
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
SEARCH_VALUES = 100  # domains per search (IN filter)
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
    return uuid.uuid5(uuid.NAMESPACE_URL, f"hubspot-pipeline:{workspace_id}:{domain}")


@dataclass
class CompanyReport:
    companies: int = 0
    created: int = 0
    updated: int = 0
    associated: int = 0
    errors: int = 0


# A contact is (re)associated when it was created, or when what decides its company was pushed.
COMPANY_INPUTS = frozenset({"website", "company"})


def contacts_needing_company(plan: Plan, pushed: PushOutcome) -> set[str]:
    """Lead ids whose contact was created this run or had its website or company pushed: only these cost
    association calls, so a run that changes 50,000 titles does not re-associate 50,000 contacts."""
    writes = plan.contact_writes
    return {
        lead_id
        for lead_id, hubspot_id, props in zip(
            writes["lead_id"], writes["hubspot_id"], writes["properties"], strict=True
        )
        if lead_id in pushed.hubspot_ids and (not isinstance(hubspot_id, str) or COMPANY_INPUTS & set(props))
    }


def sync_companies(
    job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, plan: Plan, pushed: PushOutcome
) -> CompanyReport:
    """Create/update the companies of the contacts created (or re-homed) this run and associate them."""
    report = CompanyReport()
    client = job.client
    if client is None or not pushed.hubspot_ids or not job.settings.sync_companies:
        return report
    wanted_leads = contacts_needing_company(plan, pushed)
    leads = Leads.union([changed.leads, contacts.extra_leads]).raw
    leads = leads[leads["id"].isin(list(wanted_leads))]
    if leads.empty:
        return report
    leads = leads.assign(
        domain=[domain_of(w, e) for w, e in zip(leads["website"], leads["email"], strict=True)]
    )
    leads = leads[leads["domain"] != ""]
    names = {
        d: Counter(n for n in group["company"] if n).most_common(1) for d, group in leads.groupby("domain")
    }
    wanted = {d: {"domain": d, "name": (top[0][0] if top else d)} for d, top in names.items()}
    report.companies = len(wanted)
    ids = {d: company_id(job.workspace_id, d) for d in wanted}
    s = hubspot_sync_status
    with job.engine.connect() as conn:
        known = {
            row.entity_id: row
            for row in conn.execute(
                sa.select(s.c.entity_id, s.c.hubspot_id, s.c.sync_hash).where(
                    s.c.workspace_id == job.workspace_id,
                    s.c.entity_type == ENTITY,
                    s.c.entity_id.in_(list(ids.values())),
                )
            )
        }
    hashes = dict(zip(wanted, hash_agreed(list(wanted.values()), ["domain", "name"]), strict=True))
    hubspot_ids = {
        d: known[ids[d]].hubspot_id for d in wanted if ids[d] in known and known[ids[d]].hubspot_id
    }
    missing = sorted(set(wanted) - set(hubspot_ids))
    for start in range(0, len(missing), SEARCH_VALUES):
        body = client.search(
            "companies",
            {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": "domain",
                                "operator": "IN",
                                "values": missing[start : start + SEARCH_VALUES],
                            }
                        ]
                    }
                ],
                "properties": ["domain", "name"],
                "limit": 200,
            },
        )
        for record in body.get("results", []):
            domain = str((record.get("properties") or {}).get("domain") or "").lower()
            if domain in wanted and domain not in hubspot_ids:
                hubspot_ids[domain] = str(record["id"])
    to_create = [d for d in missing if d not in hubspot_ids]
    if to_create:
        created = client.batch_create("companies", [wanted[d] for d in to_create], key_property="domain")
        for d in to_create:
            if d in created.by_key:
                hubspot_ids[d] = str(created.by_key[d]["id"])
        report.created, report.errors = len(created.by_key), report.errors + len(created.errors)
    to_update = {
        hubspot_ids[d]: {"name": wanted[d]["name"]}
        for d in wanted
        if d in hubspot_ids and ids[d] in known and known[ids[d]].sync_hash != hashes[d]
    }
    if to_update:
        updated = client.batch_update("companies", to_update)
        report.updated, report.errors = len(updated.by_key), report.errors + len(updated.errors)
    pairs = [
        (pushed.hubspot_ids[lead_id], hubspot_ids[d])
        for lead_id, d in zip(leads["id"], leads["domain"], strict=True)
        if d in hubspot_ids
    ]
    if pairs:
        report.associated = client.batch_associate_default("contacts", "companies", pairs)
    _record(job, {d: (hubspot_ids[d], wanted[d], hashes[d]) for d in hubspot_ids}, ids)
    return report


def _record(
    job: SyncJob, rows: dict[str, tuple[str, dict[str, str], str | None]], ids: dict[str, uuid.UUID]
) -> None:
    if not rows:
        return
    with job.engine.begin() as conn:
        for domain, (hubspot_id, agreed, sync_hash) in rows.items():
            conn.execute(
                sa.text(
                    "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, agreed, sync_hash, "
                    "status, last_synced_at) VALUES (:ws, 'company', :id, :hid, :agreed, :hash, 'synced', "
                    "now() AT TIME ZONE 'UTC') ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE SET "
                    "hubspot_id = excluded.hubspot_id, agreed = excluded.agreed, sync_hash = excluded.sync_hash, "
                    "status = 'synced', error_message = NULL, last_synced_at = excluded.last_synced_at, updated_at = now()"
                ).bindparams(sa.bindparam("agreed", type_=hubspot_sync_status.c.agreed.type)),
                {
                    "ws": job.workspace_id,
                    "id": ids[domain],
                    "hid": hubspot_id,
                    "agreed": agreed,
                    "hash": sync_hash,
                },
            )
