"""The contact sync of one workspace, in stages the Dagster assets call one by one (and `run_contact_sync`
calls in a row for the CLI, tests and benchmarks):

    job = prepare(engine, client, workspace_id, full=False)
    erase_privacy_deletions(engine, workspace_id)   # HubSpot's privacyDeletions first (privacy/), not in a dry run
    leads = read_changed_leads(job)                  # outbox + retry index (+ every lead, hashed, when full)
    contacts = read_changed_contacts(job, leads)     # search cursor + webhook queue + re-reads (+ list scan)
    plan = plan_sync(job, leads, contacts)           # pure: plan.build_plan
    written = push_and_record(job, leads, contacts, plan)  # HubSpot: upsert new by email, update known by
    # id; each page of pairs whose only write was their contact's recorded while later pages are pushed,
    # then one transaction: leads, the other pairs' state, cursors (paged_push.py)

Crash safety: HubSpot is written before the database. A run killed after pushing leaves the pairs
unrecorded, so the next run pushes them again: updates by id and upserts by email are idempotent, so
nothing is duplicated. Pages recorded before the kill are found recorded (their hashes unchanged) and not
pushed again. Cursors move last, in the same transaction as the state they cover.
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.companies import sync_companies
from hubspot_pipeline.sync.core.pages import PAGE_SIZE
from hubspot_pipeline.sync.job import SyncJob, prepare
from hubspot_pipeline.sync.paged_push import Written, push_and_record
from hubspot_pipeline.sync.push import PushOutcome, push_contacts
from hubspot_pipeline.sync.reads import (
    ChangedContacts,
    ChangedLeads,
    plan_sync,
    read_changed_contacts,
    read_changed_leads,
)
from hubspot_pipeline.sync.writes import SyncReport, dry_run_report, record_sync

__all__ = [
    "ChangedContacts",
    "ChangedLeads",
    "PushOutcome",
    "SyncJob",
    "SyncReport",
    "Written",
    "dry_run_report",
    "plan_sync",
    "prepare",
    "push_and_record",
    "push_contacts",
    "read_changed_contacts",
    "read_changed_leads",
    "record_sync",
    "run_contact_sync",
]


def run_contact_sync(
    engine: sa.Engine,
    client: HubSpotClient,
    workspace_id: uuid.UUID,
    *,
    full: bool = False,
    dry_run: bool = False,
    run_id: str | None = None,
    search_lag_seconds: float = 30.0,
    page_size: int = PAGE_SIZE,
) -> SyncReport:
    """One whole sync of a workspace's contacts (all stages in a row), with the time each stage took."""
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    job = prepare(
        engine, client, workspace_id, full=full, run_id=run_id, search_lag_seconds=search_lag_seconds
    )
    job.page_size = page_size
    if not dry_run:
        from hubspot_pipeline.privacy.hubspot_deletions import erase_privacy_deletions

        erase_privacy_deletions(engine, workspace_id)  # before the queue is read: see its docstring
    changed = read_changed_leads(job)
    lap("read_leads")
    contacts = read_changed_contacts(job, changed)
    lap("read_contacts")
    if contacts.full_read_seconds:  # a full resync's read began in read_leads (contact_scan.py)
        stages["full_read"] = contacts.full_read_seconds
        stages["read_contacts_compare"] = contacts.compare_seconds  # CPU, mostly while the walks waited
        stages["read_contacts_pairs"] = contacts.pairs_seconds  # beside the read
        stages["read_contacts_coldcopy"] = contacts.coldcopy_seconds  # of read_contacts, nothing in flight
    plan = plan_sync(job, changed, contacts)
    lap("plan")
    if dry_run:
        report = dry_run_report(job, changed, plan)
        report.stage_seconds = stages
        return report
    written = push_and_record(job, changed, contacts, plan)
    # The recording overlapped with the push: "record" is what was left of it after the last push call.
    stages["push"] = written.push_seconds
    lap("record")
    stages["record"] = round(stages["record"] - written.push_seconds, 3)
    report, pushed = written.report, written.pushed
    companies = sync_companies(job, changed, contacts, plan, pushed)
    lap("companies")
    report.counts |= {f"companies_{k}": v for k, v in companies.__dict__.items()}
    report.stage_seconds = stages
    return report
