"""The company sync of a run, after the contacts: ColdCopy's companies (table `companies`) and HubSpot's
kept equal both ways through the same machinery as leads and contacts, keyed by domain.

    assign    leads the run touched point at the company of their domain (new domains make new companies)
    read      company_reads.py: the company outbox, retry index and new companies; HubSpot's search cursor,
              `company.*` webhooks, re-reads, and a search by domain for companies not paired yet
    plan      core.plan.build_plan with the company mappings (3-way diff, conflicts by policy, archives per
              the workspace's policy, merges, deletes); a HubSpot company no ColdCopy company has is left
              alone (pull_new=False): ColdCopy keeps the companies of its leads
    push      new companies created (HubSpot's domain is not unique, so one is searched for first), known
              ones updated by id; HubSpot is written before the database, as for contacts
    record    one transaction under the sync's writer setting: pulled values into `companies`, pair state,
              retry index, tombstones, conflicts, cursors, the company webhooks processed
    associate a contact is associated with its lead's company when the contact or the company was created
              or the lead moved to another company (its old association removed)

A HubSpot-side edit of a mapped property changes the `companies` row (for from_hubspot and bidirectional
mappings); never a lead, and never the domain ColdCopy keys the company by.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.sync.company_reads import (
    OBJECT,
    ChangedCompanies,
    company_work_waiting,
    read_changed_companies,
)
from hubspot_pipeline.sync.core.companies import custom_keys
from hubspot_pipeline.sync.core.mapping import COMPANY_KEY, canonical_contacts
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, ROW_TIME, STATE_COLUMNS
from hubspot_pipeline.sync.core.plan import Plan, build_plan
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.push import PushOutcome
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads
from hubspot_pipeline.sync.store import companies as company_store
from hubspot_pipeline.sync.store import queues, records
from hubspot_pipeline.sync.store.state import read_state
from hubspot_pipeline.sync.writes import settle_pairs

# A lead's company is looked at again when these changed (its domain comes from them), or it was inserted.
DOMAIN_INPUTS = ("website", "email", ROW_TIME)


@dataclass
class CompanyReport:
    companies: int = 0  # ColdCopy companies looked at
    created: int = 0  # in HubSpot
    updated: int = 0  # in HubSpot
    pulled: int = 0  # ColdCopy companies updated from HubSpot
    conflicts: int = 0
    ended: int = 0  # pairs ended: archived, merged or deleted on one side
    made: int = 0  # ColdCopy companies made from new leads' domains
    associated: int = 0
    unassociated: int = 0
    errors: int = 0
    skipped: bool = False  # nothing to sync and HubSpot not searched (sync_companies' poll_hubspot)


def sync_companies(
    job: SyncJob,
    changed: ChangedLeads,
    contacts: ChangedContacts,
    plan: Plan,
    pushed: PushOutcome,
    *,
    poll_hubspot: bool = True,
) -> CompanyReport:
    """Sync the workspace's companies both ways and keep its contacts associated with them.

    poll_hubspot=False (a run launched for particular changes: a webhook or a lead outbox row) skips the
    whole stage when nothing on ColdCopy's side names a company (`company_work_waiting`) and no lead of the
    run moved or arrived: it would only search HubSpot for company edits that sent no webhook, which the
    schedule's runs do. Those reads and the search cost each webhook run about half a second, which the
    workspace's next run (one at a time) waited for too."""
    report = CompanyReport()
    if job.client is None or not job.settings.sync_companies:
        return report
    before = pd.concat([changed.state, contacts.extra_state])
    arrived = new_contacts(plan, pushed, before)
    touched = leads_to_assign(job, changed, contacts, plan, pushed)
    if not (poll_hubspot or job.full or touched or arrived or company_work_waiting(job)):
        report.skipped = True
        return report
    with job.engine.begin() as conn, sync_writer(conn):
        touched |= set(company_store.leads_of_contacts(conn, job.workspace_id, arrived))
        assignment = company_store.assign_companies(
            conn, job.workspace_id, touched, custom_keys(job.company_mapping_set)
        )
    report.made = len(assignment.created)
    read = read_changed_companies(job, assignment.created)
    company_plan = plan_companies(job, read)
    outcome = push_companies(job, company_plan)
    record_companies(job, read, company_plan, outcome)
    counts = company_plan.counts()
    report.companies = len(read.companies)
    report.created = sum(1 for i in company_plan.contact_writes["hubspot_id"] if not isinstance(i, str))
    report.updated = len(company_plan.contact_writes) - report.created
    report.pulled, report.conflicts = counts["pull"], counts["conflicts"]
    report.ended = counts["tombstones"] + counts["unlinks"]
    report.errors = len(outcome.errors)
    created_companies = {
        str(i)
        for i, h in zip(
            company_plan.contact_writes["lead_id"], company_plan.contact_writes["hubspot_id"], strict=True
        )
        if not isinstance(h, str) and i in outcome.hubspot_ids
    }
    associate(job, assignment.moved, created_companies, arrived, report)
    return report


def leads_to_assign(
    job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, plan: Plan, pushed: PushOutcome
) -> set[str]:
    """Lead ids whose company may have changed: inserted, or their website or email edited in ColdCopy
    (outbox) or pulled from HubSpot; every lead read when the run is full."""
    if job.full:
        return {str(i) for i in changed.leads.ids} | {str(i) for i in contacts.extra_leads.ids}
    times = changed.field_times
    inputs = [c for c in DOMAIN_INPUTS if c in times.columns]
    out = {str(i) for i in times.index[times[inputs].notna().any(axis=1).to_numpy()]} if inputs else set()
    for lead_id, fields in zip(plan.lead_writes["lead_id"], plan.lead_writes["fields"], strict=True):
        if not str(lead_id).startswith(NEW_LEAD_PREFIX) and {"website", "email"} & set(fields):
            out.add(str(lead_id))
    return out


def new_contacts(plan: Plan, pushed: PushOutcome, before: pd.DataFrame | None = None) -> set[str]:
    """HubSpot ids of the contacts created this run, of the contacts made leads, and of the contacts paired
    with a lead this run without a write (`before`: the pair state the run read, index lead id)."""
    writes, pulls = plan.contact_writes, plan.lead_writes
    paired: set[str] = set()
    if before is not None and len(plan.agreed):
        linked = set(before.index[before["hubspot_id"].notna()])
        paired = {
            str(h)
            for lead, h in zip(plan.agreed["lead_id"], plan.agreed["hubspot_id"], strict=True)
            if isinstance(h, str) and str(lead) not in linked and not str(lead).startswith(NEW_LEAD_PREFIX)
        }
    created = {
        pushed.hubspot_ids[str(lead)]
        for lead, hubspot_id in zip(writes["lead_id"], writes["hubspot_id"], strict=True)
        if not isinstance(hubspot_id, str) and str(lead) in pushed.hubspot_ids
    }
    made = {
        str(hubspot_id)
        for lead, hubspot_id in zip(pulls["lead_id"], pulls["hubspot_id"], strict=True)
        if str(lead).startswith(NEW_LEAD_PREFIX)
    }
    return created | made | paired


def plan_companies(job: SyncJob, read: ChangedCompanies) -> Plan:
    """The 3-way plan of the companies read (core.plan.build_plan, keyed by domain). Conflicts under
    `latest` are decided by each side's change time of the field: ColdCopy's from the company outbox,
    HubSpot's from the webhook's occurredAt, else the record's last modification."""
    mapping_set = job.company_mapping_set
    frame = pd.DataFrame([{"id": r["id"], **(r.get("properties") or {})} for r in read.records])
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series([], dtype=object), COMPANY_KEY: pd.Series([], dtype=object)})
    times = read.times
    ids = [str(i) for i in read.companies.ids]
    if ids:
        with job.engine.connect() as conn:
            raw = queues.newest_field_times(conn, job.workspace_id, ids, table="company_changes")
        from hubspot_pipeline.sync.core.leads import field_times_to_columns

        times = field_times_to_columns(raw, mapping_set).combine_first(times) if not raw.empty else times
    return build_plan(
        read.companies.live(),
        canonical_contacts(frame, mapping_set),
        read.state[STATE_COLUMNS],
        mapping_set,
        lead_times=times,
        contact_times=read.record_times,
        deleted_leads=read.deleted,
        archived_contacts=read.archived,
        merges=read.merges,
        merge_primaries=read.merge_primaries,
        on_hubspot_archive=job.settings.on_hubspot_archive,
        pull_new=False,
    )


def push_companies(job: SyncJob, plan: Plan) -> PushOutcome:
    """New companies created (their domain and every non-empty pushed property), known ones updated by id
    with the properties that changed (the domain never: ColdCopy does not change it, HubSpot may)."""
    client, writes = job.client, plan.contact_writes
    outcome = PushOutcome({}, {})
    if client is None or writes.empty:
        return outcome
    creates = writes[writes["hubspot_id"].isna()]
    updates = writes[writes["hubspot_id"].notna()]
    if len(creates):
        result = client.batch_create(
            OBJECT, [dict(p) for p in creates["properties"]], key_property=COMPANY_KEY
        )
        failed = {e.key: e.message for e in result.errors}
        for company, domain in zip(creates["lead_id"], creates[COMPANY_KEY], strict=True):
            if domain in result.by_key:
                outcome.hubspot_ids[company] = str(result.by_key[domain]["id"])
            else:
                outcome.errors[company] = failed.get(domain) or failed.get("?") or "HubSpot did not create it"
    changes = {
        str(h): {k: v for k, v in p.items() if k != COMPANY_KEY}
        for h, p in zip(updates["hubspot_id"], updates["properties"], strict=True)
    }
    changes = {h: p for h, p in changes.items() if p}
    updated = client.batch_update(OBJECT, changes) if changes else None
    failed = {e.key: e.message for e in updated.errors} if updated else {}
    for company, hubspot_id in zip(updates["lead_id"], updates["hubspot_id"], strict=True):
        if updated is None or str(hubspot_id) in updated.by_key or str(hubspot_id) not in changes:
            outcome.hubspot_ids[company] = str(hubspot_id)
        else:
            outcome.errors[company] = failed.get(str(hubspot_id)) or "HubSpot did not confirm this update"
    return outcome


def record_companies(job: SyncJob, read: ChangedCompanies, plan: Plan, pushed: PushOutcome) -> None:
    """Pulled values, pair state, retry index, tombstones, conflicts and cursors in one transaction."""
    errors = dict(pushed.errors)
    ws = job.workspace_id
    entity = company_store.ENTITY
    with job.engine.begin() as conn, sync_writer(conn):
        writes = plan.lead_writes
        company_store.update_companies(
            conn,
            ws,
            [
                (str(i), f)
                for i, f in zip(writes["lead_id"], writes["fields"], strict=True)
                if i not in errors
            ],
        )
        company_store.soft_delete_companies(conn, ws, plan.lead_deletes)
        settled = settle_pairs(plan.agreed, pushed, errors, {})
        settled.failed.extend(plan.refused.to_dict("records"))
        company_store.record_companies(conn, ws, settled.synced)
        records.record_failed(conn, ws, settled.failed, entity=entity)
        records.record_tombstones(conn, ws, plan.tombstones.to_dict("records"), entity=entity)
        records.forget_pairs(conn, ws, plan.unlinks, entity=entity)
        synced = {r["lead_id"] for r in settled.synced}
        records.relink_pairs(
            conn, ws, {i: s for i, s in plan.relinks.items() if i not in synced}, entity=entity
        )
        records.record_conflicts(conn, ws, plan.conflicts, job.run_id, object_type=entity)
        if read.outbox_up_to is not None:
            queues.set_cursor(conn, ws, queues.COMPANY_OUTBOX_STREAM, read.outbox_up_to)
        queues.set_cursor(
            conn, ws, queues.COMPANY_SEARCH_STREAM, read.search_cursor or {"modified_ms": 0, "object_id": 0}
        )
        queues.mark_webhooks_processed(conn, read.event_ids)


def associate(
    job: SyncJob,
    moved: dict[str, tuple[str | None, str | None]],
    created_companies: set[str],
    created_contacts: set[str],
    report: CompanyReport,
) -> None:
    """Each contact with its lead's company, where the lead moved to another company (the old association
    removed), its company was created in HubSpot, or its contact was created or made a lead this run."""
    client = job.client
    assert client is not None
    ws = job.workspace_id
    with job.engine.connect() as conn:
        leads = set(moved) | set(company_store.leads_of_companies(conn, ws, created_companies))
        leads |= set(company_store.leads_of_contacts(conn, ws, created_contacts))
        if not leads:
            return
        contact_of = company_store.contacts_of_leads(conn, ws, leads)
        company_of = company_store.companies_of_leads(conn, ws, contact_of)
        olds = {i: o for i, (o, _) in moved.items() if o and i in contact_of}
        state = read_state(conn, ws, lead_ids={*company_of.values(), *olds.values()}, entity="company")
    live = state[state["hubspot_id"].notna() & state["agreed"].map(lambda a: "_tombstone" not in (a or {}))]
    hubspot_company = live["hubspot_id"].astype(str).to_dict()
    pairs = [(contact_of[i], hubspot_company[c]) for i, c in company_of.items() if c in hubspot_company]
    stale = [
        (contact_of[i], hubspot_company[o])
        for i, o in olds.items()
        if o in hubspot_company and hubspot_company[o] != hubspot_company.get(company_of.get(i, ""))
    ]
    if stale:
        client.batch_archive_associations("contacts", OBJECT, stale)
        report.unassociated = len(stale)
    if pairs:
        report.associated = client.batch_associate_default("contacts", OBJECT, sorted(set(pairs)))
