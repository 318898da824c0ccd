"""A full resync reads every HubSpot contact (list and search at once, hubspot/full_read.py), plans only the
contacts that differ from their pair's agreed values, and searches incrementally only from when the read
began; a contact the search index did not show yet is not lost."""

from __future__ import annotations

import math
import uuid

import httpx
import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import leads
from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.engine import prepare, run_contact_sync
from hubspot_pipeline.sync.properties import ensure_hubspot_properties

from .test_engine_sandbox import SEARCH_LAG, add_leads, contacts, lead_rows, sync, write_calls

LIST = "GET /crm/v3/objects/contacts"
SEARCH = "POST /crm/v3/objects/contacts/search"


def _bulk_edit(engine, workspace_id, email: str, **values) -> None:
    """A lead edit the outbox does not see (a bulk load's): only a full resync finds it."""
    from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING

    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config(:k, :v, true)"), {"k": WRITER_SETTING, "v": BULK_LOAD_WRITER})
        conn.execute(
            sa.update(leads)
            .where(leads.c.workspace_id == workspace_id, leads.c.email == email)
            .values(**values)
        )


def test_a_full_resync_reads_each_contact_once_through_both_budgets_and_plans_only_the_changed(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    count = 450
    add_leads(engine, workspace_id, [{"email": f"f{i}@example.com", "title": "CTO"} for i in range(count)])
    assert sync(engine, hubspot_client, workspace_id, full=True).errors == 0
    admin = hubspot_sandbox.admin

    admin.advance(
        5
    )  # the first run's writes are older than the read (the client knows HubSpot's clock to 1 s)
    admin.reset_counters()
    before = write_calls(hubspot_sandbox)
    quiet = sync(engine, hubspot_client, workspace_id, full=True)
    assert quiet.counts["push"] == 0 and quiet.counts["pull"] == 0 and write_calls(hubspot_sandbox) == before
    # The read: list pages of 100 from the bottom, search pages of 200 from the top, at most one page each
    # beyond what it kept; one archived listing; then the incremental search from the read's start (a call
    # or two), not from the previous run's cursor.
    lists, searches = admin.calls(LIST), admin.calls(SEARCH)
    assert lists + searches <= math.ceil(count / 100) + 1 + 1 + 3
    assert searches >= 1 and lists >= 2

    hub_ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    for i in (3, 200, 449):  # HubSpot side: the list's part, the middle, the search's part
        admin.ui_edit(hub_ids[f"f{i}@example.com"], {"jobtitle": f"Edited {i}"})
    for i in (10, 440):
        _bulk_edit(engine, workspace_id, f"f{i}@example.com", title=f"Changed {i}")
    hubspot_client.batch_upsert("contacts", [{"email": "only-in-hubspot@example.com", "jobtitle": "VP"}])
    full = sync(engine, hubspot_client, workspace_id, full=True)
    assert full.errors == 0, full.error_samples
    assert full.counts["pull"] == 4 and full.counts["pull_new"] == 1
    assert full.counts["push"] == 3  # the two lead edits, and the new lead's status to its contact
    rows, in_hubspot = lead_rows(engine, workspace_id), contacts(hubspot_client)
    assert [rows[f"f{i}@example.com"]["title"] for i in (3, 200, 449)] == [
        "Edited 3",
        "Edited 200",
        "Edited 449",
    ]
    assert rows["only-in-hubspot@example.com"]["title"] == "VP"
    assert [in_hubspot[f"f{i}@example.com"]["jobtitle"] for i in (10, 440)] == ["Changed 10", "Changed 440"]
    assert in_hubspot["only-in-hubspot@example.com"]["coldcopy_lead_status"] == "new"
    assert sync(engine, hubspot_client, workspace_id, full=True).counts["pull"] == 0


def test_a_contact_the_search_index_did_not_show_yet_is_read_by_a_later_run(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(engine, workspace_id, [{"email": f"g{i}@example.com"} for i in range(250)])
    assert sync(engine, hubspot_client, workspace_id, full=True).errors == 0
    admin = hubspot_sandbox.admin
    admin.configure(index_lag_seconds=20)
    # Created just before the resync: the highest id, in the search walk's part, invisible to search.
    hubspot_client.batch_upsert("contacts", [{"email": "late@example.com", "jobtitle": "CFO"}])
    admin.advance(3)  # modified well before the read begins, and still invisible to search
    ensure_hubspot_properties(prepare(engine, hubspot_client, workspace_id))  # learns HubSpot's clock
    run_contact_sync(engine, hubspot_client, workspace_id, full=True, search_lag_seconds=20)
    admin.advance(30)
    ensure_hubspot_properties(prepare(engine, hubspot_client, workspace_id))  # learns HubSpot's clock
    run_contact_sync(engine, hubspot_client, workspace_id, search_lag_seconds=20)
    rows = lead_rows(engine, workspace_id)
    assert rows["late@example.com"]["title"] == "CFO"
    assert len(rows) == 251 and len(contacts(hubspot_client)) == 251


def test_quiet_full_resyncs_keep_the_search_cursor_moving(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    from hubspot_pipeline.sync.store import queues

    add_leads(engine, workspace_id, [{"email": f"h{i}@example.com"} for i in range(5)])
    sync(engine, hubspot_client, workspace_id, full=True)
    with engine.connect() as conn:
        first = queues.get_cursor(conn, workspace_id, queues.SEARCH_STREAM)
    hubspot_sandbox.admin.advance(5)
    sync(engine, hubspot_client, workspace_id, full=True)
    with engine.connect() as conn:
        second = queues.get_cursor(conn, workspace_id, queues.SEARCH_STREAM)
    assert second["modified_ms"] > first["modified_ms"]
    assert SEARCH_LAG < 0  # these tests' horizon is ahead of HubSpot's clock; the floor never is


class _ArchivingTransport(httpx.HTTPTransport):
    """The real sandbox; right after the full read's first list page, a person archives contacts that page
    held (one changed in HubSpot, which the read keeps, and one unchanged, which it drops)."""

    def __init__(self, sandbox: SandboxHandle, ids: list[str]) -> None:
        super().__init__()
        self.sandbox, self.ids, self.done = sandbox, ids, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        listing = request.method == "GET" and request.url.path == "/crm/v3/objects/contacts"
        if listing and request.url.params.get("archived") == "false" and not self.done:
            self.done = True
            with httpx.Client(base_url=self.sandbox.base_url, headers=self.sandbox.auth_headers()) as http:
                for hubspot_id in self.ids:
                    http.delete(f"/crm/v3/objects/contacts/{hubspot_id}")
        return response


def test_a_contact_archived_during_the_full_read_is_archived_not_kept(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    from .test_engine_sandbox import set_config

    set_config(engine, workspace_id, on_hubspot_archive="delete_lead")
    add_leads(engine, workspace_id, [{"email": f"a{i}@example.com"} for i in range(300)])
    assert sync(engine, hubspot_client, workspace_id, full=True).errors == 0
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    hubspot_sandbox.admin.ui_edit(ids["a0@example.com"], {"jobtitle": "Edited before the read"})
    victims = [ids["a0@example.com"], ids["a1@example.com"]]  # the lowest ids: the list's first page
    limiter = PostgresRateLimiter(engine, f"test-hub:{uuid.uuid4()}")
    with HubSpotClient(
        hubspot_sandbox.base_url,
        PrivateAppToken(hubspot_sandbox.private_app_token),
        limiter=limiter,
        transport=_ArchivingTransport(hubspot_sandbox, victims),
    ) as client:
        report = sync(engine, client, workspace_id, full=True)
    assert report.counts["lead_deletes"] == 2 and report.counts["push_new"] == 0
    rows = lead_rows(engine, workspace_id)
    assert "a0@example.com" not in rows and "a1@example.com" not in rows and len(rows) == 298
    assert len(contacts(hubspot_client)) == 298  # neither re-created


def test_the_contacts_to_plan_do_not_depend_on_how_the_scan_chunks_its_comparison(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    # The scan compares a chunk whenever no page is waiting (contact_scan.IDLE_CHUNK), so where the chunks
    # fall depends on the walks' timing: the contacts it keeps must not.
    from hubspot_pipeline.sync.contact_scan import scan_contacts
    from hubspot_pipeline.sync.reads import contact_properties

    add_leads(engine, workspace_id, [{"email": f"c{i}@example.com", "title": "CTO"} for i in range(250)])
    assert sync(engine, hubspot_client, workspace_id, full=True).errors == 0
    hub_ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    edited = {hub_ids[f"c{i}@example.com"] for i in (0, 120, 249)}
    for hubspot_id in edited:
        hubspot_sandbox.admin.ui_edit(hubspot_id, {"jobtitle": "Edited in HubSpot"})
    job = prepare(engine, hubspot_client, workspace_id, full=True)
    for compare_chunk, idle_chunk in ((20_000, 2_000), (100, 1), (7, 7)):
        scan = scan_contacts(job, contact_properties(job), compare_chunk=compare_chunk, idle_chunk=idle_chunk)
        assert (scan.read, scan.unchanged, set(scan.records)) == (250, 247, edited)


def test_a_cancelled_contact_scan_stops_and_hands_back_no_contacts(engine, workspace_id, hubspot_client):
    # A full run starts the scan before its lead side (reads.read_changed_leads) and cancels it when the
    # lead side fails: its walks stop and nothing it read can be taken for a whole read.
    from hubspot_pipeline.sync.contact_scan import start_scan
    from hubspot_pipeline.sync.reads import contact_properties

    add_leads(engine, workspace_id, [{"email": f"s{i}@example.com"} for i in range(120)])
    assert sync(engine, hubspot_client, workspace_id, full=True).errors == 0
    job = prepare(engine, hubspot_client, workspace_id, full=True)
    scan = start_scan(job, contact_properties(job))
    scan.cancel()
    with pytest.raises(RuntimeError, match="cancelled"):
        scan.result()
    assert start_scan(job, contact_properties(job)).result().read == 120
