"""Companies by domain, their mapped properties pushed, and each pushed contact associated with its company.

Which companies a run looks at: those of the contacts created this run or whose website or company was
pushed (these are also the contacts associated), and those of leads whose outbox rows name a field a company
mapping reads. Their values come from those leads (core/companies.py). HubSpot's `domain` is not unique, so
a company is found by searching its domain before one is created; its HubSpot id is then kept with the values
pushed and their hash (store/companies.py), so later runs neither search nor write unless a value changed.
Company mappings flow to HubSpot only: a HubSpot-side company edit stays in HubSpot until ColdCopy's value
for that property changes (README, "Companies").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.core.companies import company_id, company_values, domain_of, hash_columns
from hubspot_pipeline.sync.core.hashing import hash_agreed
from hubspot_pipeline.sync.core.leads import Leads
from hubspot_pipeline.sync.core.mapping import COMPANY_KEY, MappingSet
from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.push import PushOutcome
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads
from hubspot_pipeline.sync.store.companies import known_companies, record_companies

SEARCH_VALUES = 100  # domains per search (IN filter)
# A contact is (re)associated when it was created, or when what decides its company was pushed.
COMPANY_INPUTS = frozenset({"website", "company"})


@dataclass
class CompanyReport:
    companies: int = 0
    created: int = 0
    updated: int = 0
    associated: int = 0
    errors: int = 0


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


def leads_with_company_changes(field_times: pd.DataFrame, mapping_set: MappingSet) -> set[str]:
    """Lead ids whose outbox rows (lead field -> change time) name a field a company mapping reads."""
    sources = sorted({s for m in mapping_set.mappings for s in m.mapping.sources} & set(field_times.columns))
    if field_times.empty or not sources:
        return set()
    return {str(i) for i in field_times.index[field_times[sources].notna().any(axis=1).to_numpy()]}


def sync_companies(
    job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, plan: Plan, pushed: PushOutcome
) -> CompanyReport:
    """Create or update the companies this run touches and associate the contacts that need it."""
    report = CompanyReport()
    client = job.client
    if client is None or not job.settings.sync_companies:
        return report
    associate = contacts_needing_company(plan, pushed)
    touched = associate | leads_with_company_changes(changed.field_times, job.company_mapping_set)
    leads = Leads.union([changed.leads, contacts.extra_leads]).raw
    leads = leads[leads["id"].isin(list(touched)) & ~leads["deleted"].to_numpy(dtype=bool)]
    wanted = company_values(leads, job.company_mapping_set) if len(leads) else {}
    if not wanted:
        return report
    report.companies = len(wanted)
    ids = {d: company_id(job.workspace_id, d) for d in wanted}
    with job.engine.connect() as conn:
        known = known_companies(conn, job.workspace_id, ids.values())
    columns = hash_columns(job.company_mapping_set)
    hashes = dict(zip(wanted, hash_agreed(list(wanted.values()), columns), strict=True))
    hubspot_ids = {
        d: known[ids[d]].hubspot_id for d in wanted if ids[d] in known and known[ids[d]].hubspot_id
    }
    hubspot_ids |= _find_by_domain(client, sorted(set(wanted) - set(hubspot_ids)))
    _create(client, wanted, hubspot_ids, report)
    changed_ids = {
        hubspot_ids[d]: _properties(wanted[d])
        for d in wanted
        if d in hubspot_ids and ids[d] in known and known[ids[d]].sync_hash != hashes[d]
    }
    if changed_ids:
        updated = client.batch_update("companies", changed_ids)
        report.updated, report.errors = len(updated.by_key), report.errors + len(updated.errors)
    pairs = [
        (pushed.hubspot_ids[lead_id], hubspot_ids[domain_of(w, e)])
        for lead_id, w, e in zip(leads["id"], leads["website"], leads["email"], strict=True)
        if lead_id in associate and domain_of(w, e) in hubspot_ids
    ]
    if pairs:
        report.associated = client.batch_associate_default("contacts", "companies", pairs)
    with job.engine.begin() as conn:
        record_companies(
            conn, job.workspace_id, {ids[d]: (hubspot_ids[d], wanted[d], hashes[d]) for d in hubspot_ids}
        )
    return report


def _properties(values: dict[str, str]) -> dict[str, str]:
    """What is written to a company: its mapped properties that have a value (an empty one is not cleared)."""
    return {k: v for k, v in values.items() if v and k != COMPANY_KEY}


def _find_by_domain(client: HubSpotClient, domains: list[str]) -> dict[str, str]:
    """domain -> HubSpot id of the existing companies with those domains (the first found of each)."""
    found: dict[str, str] = {}
    for start in range(0, len(domains), SEARCH_VALUES):
        some = domains[start : start + SEARCH_VALUES]
        body = client.search(
            "companies",
            {
                "filterGroups": [
                    {"filters": [{"propertyName": COMPANY_KEY, "operator": "IN", "values": some}]}
                ],
                "properties": [COMPANY_KEY, "name"],
                "limit": 200,
            },
        )
        for record in body.get("results", []):
            domain = str((record.get("properties") or {}).get(COMPANY_KEY) or "").lower()
            if domain in some and domain not in found:
                found[domain] = str(record["id"])
    return found


def _create(
    client: HubSpotClient,
    wanted: dict[str, dict[str, str]],
    hubspot_ids: dict[str, str],
    report: CompanyReport,
) -> None:
    """Create the wanted companies HubSpot does not have; their ids go into `hubspot_ids`."""
    to_create = sorted(set(wanted) - set(hubspot_ids))
    if not to_create:
        return
    inputs = [{COMPANY_KEY: d, **_properties(wanted[d])} for d in to_create]
    created = client.batch_create("companies", inputs, key_property=COMPANY_KEY)
    for d in to_create:
        if d in created.by_key:
            hubspot_ids[d] = str(created.by_key[d]["id"])
    report.created, report.errors = len(created.by_key), report.errors + len(created.errors)
