"""The push recorded page by page (sync/paged_push.py) on PostgreSQL and the sandbox over HTTP: a run killed
on page k leaves the pages before it recorded and the next run pushes only the rest; a page whose push call
fails puts its pairs in the retry index while the other pages sync. Counts of calls and rows, no timing.
One push call in flight (max_concurrency=1), so that "page k" is the k-th call. The crash tests of the
whole engine (killed runs, faults) are in test_engine_sandbox.py and test_sync_state_machine.py.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status, leads
from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken, RetryPolicy
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.engine import SyncReport, run_contact_sync
from hubspot_pipeline.sync.store.state import ENTITY
from tests.sync.sync_world import KillAfterWrites, RunKilled, is_write
from tests.sync.test_engine_sandbox import SEARCH_LAG, add_leads, contacts, statuses, sync, write_calls

LEADS = 350  # four push calls of 100 pairs: pages of 100, 100, 100 and 50


class FailWrite(httpx.BaseTransport):
    """Answers the n-th write call with a 503 without sending it (HubSpot never sees it)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if is_write(f"{request.method} {request.url.path}"):
            self.n -= 1
            if self.n == 0:
                return httpx.Response(503, content=b"<html>503 Service Unavailable</html>")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def one_call_at_a_time(
    sandbox: SandboxHandle, engine: sa.Engine, transport: httpx.BaseTransport
) -> HubSpotClient:
    limiter = PostgresRateLimiter(engine, portal_key=f"test-hub:{sandbox.hub_id}:{uuid.uuid4()}")
    return HubSpotClient(
        sandbox.base_url,
        auth=PrivateAppToken(sandbox.private_app_token),
        limiter=limiter,
        max_concurrency=1,
        retry=RetryPolicy(server_retries=0),
        transport=transport,
    )


def paged_sync(engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID) -> SyncReport:
    return run_contact_sync(engine, client, workspace_id, search_lag_seconds=SEARCH_LAG, page_size=100)


def retitle_every_lead(engine: sa.Engine, workspace_id: uuid.UUID, title: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(leads).where(leads.c.workspace_id == workspace_id).values(title=title))


def agreed_titles(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, int]:
    """Lead pairs by the job title their recorded state agrees on."""
    s = hubspot_sync_status
    title = s.c.agreed["jobtitle"].astext
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(title, sa.func.count())
            .where(s.c.workspace_id == workspace_id, s.c.entity_type == ENTITY)
            .group_by(title)
        ).all()
    return dict(rows)


@pytest.fixture
def synced_leads(engine, workspace_id, hubspot_client) -> None:
    add_leads(engine, workspace_id, [{"email": f"p{i}@example.com", "title": "Dev"} for i in range(LEADS)])
    assert sync(engine, hubspot_client, workspace_id).errors == 0
    retitle_every_lead(engine, workspace_id, "CTO")


def test_a_run_killed_on_page_3_leaves_pages_1_and_2_recorded_and_the_next_run_pushes_the_rest(
    engine, workspace_id, hubspot_client, hubspot_sandbox, synced_leads
):
    with (
        one_call_at_a_time(hubspot_sandbox, engine, KillAfterWrites(3)) as client,
        pytest.raises(RunKilled),
    ):
        paged_sync(engine, client, workspace_id)
    # The third call reached HubSpot, its answer was lost: 300 contacts retitled, 200 pairs recorded.
    assert sum(c["jobtitle"] == "CTO" for c in contacts(hubspot_client).values()) == 300
    assert agreed_titles(engine, workspace_id) == {"CTO": 200, "Dev": LEADS - 200}
    before = write_calls(hubspot_sandbox)
    report = paged_sync(engine, hubspot_client, workspace_id)
    # Page 3's contacts are read back holding the lead's values already (agreed, no write); only page 4,
    # never sent, is pushed: one call.
    assert report.counts["push"] == LEADS - 300 and report.errors == 0
    assert write_calls(hubspot_sandbox) - before == 1
    assert agreed_titles(engine, workspace_id) == {"CTO": LEADS}
    in_hubspot = contacts(hubspot_client)  # asserts no email twice
    assert len(in_hubspot) == LEADS and all(c["jobtitle"] == "CTO" for c in in_hubspot.values())
    assert statuses(engine, workspace_id) == {"synced": LEADS + 1}  # the leads and example.com's company
    before = write_calls(hubspot_sandbox)
    assert paged_sync(engine, hubspot_client, workspace_id).counts["push"] == 0
    assert write_calls(hubspot_sandbox) == before


def test_a_failed_push_call_on_page_2_puts_its_pairs_in_the_retry_index_and_the_other_pages_sync(
    engine, workspace_id, hubspot_client, hubspot_sandbox, synced_leads
):
    with one_call_at_a_time(hubspot_sandbox, engine, FailWrite(2)) as client:
        report = paged_sync(engine, client, workspace_id)
    assert report.counts["push"] == LEADS and report.counts["synced"] == LEADS - 100
    assert report.errors == 100 and report.counts["failed"] == 100
    assert statuses(engine, workspace_id) == {"synced": LEADS + 1 - 100, "error": 100}
    assert agreed_titles(engine, workspace_id) == {"CTO": LEADS - 100, "Dev": 100}
    assert sum(c["jobtitle"] == "CTO" for c in contacts(hubspot_client).values()) == LEADS - 100
    before = write_calls(hubspot_sandbox)
    retried = paged_sync(engine, hubspot_client, workspace_id)
    assert retried.counts["push"] == 100 and retried.errors == 0
    assert write_calls(hubspot_sandbox) - before == 1
    assert statuses(engine, workspace_id) == {"synced": LEADS + 1}
    assert all(c["jobtitle"] == "CTO" for c in contacts(hubspot_client).values())
