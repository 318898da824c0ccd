"""The company stage of a run launched for particular changes (`sync_companies(poll_hubspot=False)`, as the
webhook and lead outbox sensors' runs call it): skipped, without a HubSpot call and with only the queries
that find nothing waiting, when no lead of the run moved or arrived and nothing names a company; run whole
when something does (a company edited in ColdCopy, a company webhook, a lead moved to another domain). A
HubSpot company edit that sent no webhook waits for a run that polls (the schedule's). Against PostgreSQL
and the sandbox over HTTP; which trigger polls is tests/defs/test_contacts_defs.py's."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import leads
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync import engine as sync
from hubspot_pipeline.sync.companies import CompanyReport, sync_companies
from tests.sync.test_companies import company_rows, edit_company, hubspot_companies, queue_webhook
from tests.sync.test_engine_sandbox import SEARCH_LAG, add_leads
from tests.sync.test_engine_sandbox import sync as full_sync
from tests.sync.test_records import _statements

# The stage's look for waiting work: the company outbox's cursor and rows, the retry index, pending
# companies, queued webhooks. The whole stage on the same idle workspace sends about twice as many.
IDLE_QUERIES = 5


def company_stage(
    engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID, *, poll_hubspot: bool
) -> tuple[CompanyReport, int, int]:
    """An incremental run's stages up to the record, then its company stage: (report, SQL statements sent,
    HubSpot calls made) of the company stage alone."""
    job = sync.prepare(engine, client, workspace_id, search_lag_seconds=SEARCH_LAG)
    changed = sync.read_changed_leads(job)
    contacts = sync.read_changed_contacts(job, changed)
    plan = sync.plan_sync(job, changed, contacts)
    pushed = sync.push_contacts(job, plan)
    sync.record_sync(job, changed, contacts, plan, pushed)
    calls = client.metrics.total_calls()
    with _statements(engine) as sent:
        report = sync_companies(job, changed, contacts, plan, pushed, poll_hubspot=poll_hubspot)
    return report, len(sent), client.metrics.total_calls() - calls


def edit_first_name(engine: sa.Engine, workspace_id: uuid.UUID, email: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(leads)
            .where(leads.c.workspace_id == workspace_id, leads.c.email == email)
            .values(first_name=value)
        )


@pytest.fixture
def synced(engine, workspace_id, hubspot_client) -> str:
    """A workspace whose lead, contact and company acme.com are in sync; the company's HubSpot id."""
    add_leads(engine, workspace_id, [{"email": "a@acme.com", "first_name": "Ann", "company": "Acme"}])
    full_sync(engine, hubspot_client, workspace_id)
    return hubspot_companies(hubspot_client)["acme.com"]["id"]


def test_a_run_for_a_lead_edit_skips_the_company_stage_without_a_hubspot_call(
    engine, workspace_id, hubspot_client, hubspot_sandbox, synced
):
    edit_first_name(engine, workspace_id, "a@acme.com", "Anna")  # not a domain input
    hubspot_sandbox.admin.ui_edit(synced, {"name": "Acme HQ"}, "companies")  # no webhook subscribed
    report, queries, calls = company_stage(engine, hubspot_client, workspace_id, poll_hubspot=False)
    assert report.skipped and (calls, report.pulled) == (0, 0)
    assert queries <= IDLE_QUERIES
    # A run that polls (the schedule's, the API's) searches HubSpot and finds the edit.
    report, queries, calls = company_stage(engine, hubspot_client, workspace_id, poll_hubspot=True)
    assert not report.skipped and report.pulled == 1 and calls >= 1
    assert queries > IDLE_QUERIES
    assert company_rows(engine, workspace_id)["acme.com"]["name"] == "Acme HQ"


@pytest.mark.parametrize("work", ["company edited in ColdCopy", "company webhook", "lead moved"])
def test_a_run_for_a_change_runs_the_company_stage_when_a_company_has_work(
    engine, workspace_id, hubspot_client, hubspot_sandbox, synced, work
):
    if work == "company edited in ColdCopy":
        edit_company(engine, workspace_id, "acme.com", name="Acme Corp")
    elif work == "company webhook":
        hubspot_sandbox.admin.ui_edit(synced, {"name": "Acme HQ"}, "companies")
        queue_webhook(engine, workspace_id, synced, "company.propertyChange", {"propertyName": "name"})
    else:
        with engine.begin() as conn:
            conn.execute(
                sa.update(leads)
                .where(leads.c.workspace_id == workspace_id, leads.c.email == "a@acme.com")
                .values(website="https://beta.io")
            )
    report, queries, calls = company_stage(engine, hubspot_client, workspace_id, poll_hubspot=False)
    assert not report.skipped and calls >= 1 and queries > IDLE_QUERIES
    found, rows = hubspot_companies(hubspot_client), company_rows(engine, workspace_id)
    if work == "company edited in ColdCopy":
        assert report.updated == 1 and found["acme.com"]["name"] == "Acme Corp"
    elif work == "company webhook":
        assert report.pulled == 1 and rows["acme.com"]["name"] == "Acme HQ"
    else:
        assert report.made == 1 and "beta.io" in found
