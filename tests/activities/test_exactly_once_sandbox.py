"""Every email event reaches HubSpot exactly once whatever happens mid-push, counted in the sandbox: a batch
process SIGKILLed while its creates are in flight, and HubSpot answering 5xx (or dropping the connection)
after it wrote. Emails and notes have no idempotency key: their in-flight rows are settled by reading the
contact's objects; timeline events carry theirs, whether HubSpot answers a repeat with 409 or overwrites."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES
from hubspot_pipeline.activities.engine import log_activities
from hubspot_pipeline.activities.templates import ensure_templates
from hubspot_pipeline.db.tables import hubspot_activity_log
from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, RetryPolicy
from hubspot_pipeline.hubspot.transport import SPARE_CONNECTIONS
from tests.activities.builders import add_campaign, add_sequence, sync_contacts
from tests.activities.conftest import Portal
from tests.activities.hubspot_side import activity_status, emails_by_message_id, log_rows, notes_by_event
from tests.polling import wait_until

FAST_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.05)


def _client_like(engine: sa.Engine, portal: Portal, **options: object) -> HubSpotClient:
    """Another client of the same portal and credentials (its own retry policy, concurrency...)."""
    return HubSpotClient(
        portal.sandbox.base_url,
        portal.client.auth,
        limiter=PostgresRateLimiter(engine, portal_key=f"test-once:{uuid.uuid4()}"),
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("portal_kind", "repeat"),
    [("oauth_portal", "conflict"), ("oauth_portal", "overwrite"), ("private_portal", "conflict")],
)
def test_a_5xx_after_hubspot_wrote_leaves_every_event_exactly_once(
    engine: sa.Engine, request: pytest.FixtureRequest, portal_kind: str, repeat: str
) -> None:
    portal: Portal = request.getfixturevalue(portal_kind)
    workspace, sandbox = portal.workspace_id, portal.sandbox
    kinds = ("sent", "opened", "clicked", "replied", "bounced")
    sequences = [add_sequence(engine, workspace, f"flaky{n}@example.com", kinds=kinds) for n in range(3)]
    sync_contacts(engine, portal.client, workspace)
    ensure_templates(engine, portal.developer, TIMELINE_TYPES)  # the app's templates exist already
    sandbox.admin.configure(faults={"error_after_write": 1.0}, timeline_repeat=repeat)
    with _client_like(engine, portal, retry=FAST_RETRIES) as client:
        first = log_activities(engine, client, workspace, developer=portal.developer)
        sandbox.admin.configure(faults={"error_after_write": 0.0})
        in_flight = [r for r in log_rows(engine, workspace) if r.status == "in_flight"]
        engagements = 6 if portal_kind == "oauth_portal" else 15  # emails (and notes on a private app)
        assert first.counts["unknown_outcome"] == engagements and len(in_flight) == engagements
        assert first.counts["logged"] == 0
        if portal_kind == "oauth_portal":  # each timeline post was written, retried, written again...
            assert first.counts["failed"] == 9
            assert len(sandbox.admin.timeline_events(portal.hub_id)) == 9

        second = log_activities(engine, client, workspace, developer=portal.developer, settled_seconds=0)
        third = log_activities(engine, client, workspace, developer=portal.developer, settled_seconds=0)

    assert second.counts["recovered_found"] == engagements and second.counts["recovered_absent"] == 0
    assert third.counts["logged"] == 0 and third.api_calls == 0
    headers = {s.sent_header for s in sequences} | {s.reply_header for s in sequences}
    assert emails_by_message_id(portal.client) == dict.fromkeys(headers, 1)
    timeline_events = {str(s.events[k]) for s in sequences for k in ("opened", "clicked", "bounced")}
    if portal_kind == "oauth_portal":
        assert sorted(e["id"] for e in sandbox.admin.timeline_events(portal.hub_id)) == sorted(
            timeline_events
        )
    else:
        assert notes_by_event(portal.client) == dict.fromkeys(timeline_events, 1)
    rows = log_rows(engine, workspace)
    assert len(rows) == 15 and {r.status for r in rows} == {"logged"}
    assert {row.status for row in activity_status(engine, workspace).values()} <= {"synced"}


def test_a_create_never_applied_is_sent_again_after_recovery(engine: sa.Engine, oauth_portal: Portal) -> None:
    """The other half of recovery: a connection dropped before HubSpot wrote anything leaves an in-flight row
    that matches nothing, so the event is sent again, once."""
    portal, workspace, sandbox = oauth_portal, oauth_portal.workspace_id, oauth_portal.sandbox
    sequence = add_sequence(engine, workspace, "dropped@example.com", kinds=("sent",))
    sync_contacts(engine, portal.client, workspace)
    sandbox.admin.configure(faults={"drop_connection": 1.0})
    with _client_like(engine, portal, retry=FAST_RETRIES) as client:
        first = log_activities(engine, client, workspace, developer=portal.developer)
        sandbox.admin.configure(faults={"drop_connection": 0.0})
        assert first.counts["unknown_outcome"] == 1 and emails_by_message_id(portal.client) == {}
        second = log_activities(engine, client, workspace, developer=portal.developer, settled_seconds=0)
    assert second.counts["recovered_absent"] == 1 and second.counts["emails"] == 1
    assert emails_by_message_id(portal.client) == {sequence.sent_header: 1}


def test_recovery_waits_for_creates_that_may_still_land(engine: sa.Engine, oauth_portal: Portal) -> None:
    portal, workspace, sandbox = oauth_portal, oauth_portal.workspace_id, oauth_portal.sandbox
    add_sequence(engine, workspace, "young@example.com", kinds=("sent",))
    sync_contacts(engine, portal.client, workspace)
    sandbox.admin.configure(faults={"error_after_write": 1.0})
    with _client_like(engine, portal, retry=FAST_RETRIES) as client:
        log_activities(engine, client, workspace, developer=portal.developer)
        sandbox.admin.configure(faults={"error_after_write": 0.0})
        sandbox.admin.reset_counters()
        young = log_activities(engine, client, workspace, developer=portal.developer)  # settled_seconds=60
    assert young.counts["recovered_found"] == 0 and sandbox.admin.counters()["total"] == 0
    assert [r.status for r in log_rows(engine, workspace)] == ["in_flight"]


def _in_flight(engine: sa.Engine, workspace_id: uuid.UUID) -> int:
    log = hubspot_activity_log
    with engine.connect() as conn:
        return conn.scalar(
            sa.select(sa.func.count()).where(log.c.workspace_id == workspace_id, log.c.status == "in_flight")
        )


def test_a_batch_killed_mid_push_leaves_every_event_exactly_once(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    portal, workspace, sandbox = oauth_portal, oauth_portal.workspace_id, oauth_portal.sandbox
    campaign = add_campaign(engine, workspace)
    sequences = [
        add_sequence(
            engine, workspace, f"k{n}@example.com", campaign_id=campaign, kinds=("sent", "opened", "replied")
        )
        for n in range(250)
    ]
    sync_contacts(engine, portal.client, workspace)
    # Creates are held at HubSpot until this test lets them through, so the kill lands, whatever the machine's
    # load, when the process has claimed its five email batches (500 in-flight rows) and every connection of
    # its client (2 + SPARE_CONNECTIONS) carries a held create: some email batches sent, maybe some not, and
    # timeline batches sent or not yet.
    creates = "POST /crm/v3/objects/emails/batch/create"
    timeline = "POST /integrators/timeline/v3/events/batch/create"
    sandbox.admin.configure(faults={"hold": [creates, timeline]})
    command = [sys.executable, "-m", "hubspot_pipeline.cli", "activities", "log", str(workspace)]
    command += ["--hubspot-url", sandbox.base_url, "--max-concurrency", "2"]
    process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def claimed_and_held() -> bool:
        assert process.poll() is None, process.stderr.read().decode()[-2000:] if process.stderr else ""
        held = sum(sandbox.admin.counters()["held"].values())
        return _in_flight(engine, workspace) == 500 and held == 2 + SPARE_CONNECTIONS

    wait_until("500 in-flight rows and a held create on every connection", claimed_and_held, 120, 0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    sent = sandbox.admin.held(creates)
    # The requests the process had sent land in HubSpot after it died (what settled_seconds waits for).
    sandbox.admin.configure(faults={"hold": []})
    wait_until("the held creates to land", lambda: not sandbox.admin.counters()["held"], 30, 0.01)
    assert sent >= 3 and sandbox.admin.calls(creates) == sent

    report = log_activities(engine, portal.client, workspace, developer=portal.developer, settled_seconds=0)

    assert report.counts["recovered_found"] == 100 * sent
    assert report.counts["recovered_absent"] == 500 - 100 * sent
    headers = {s.sent_header for s in sequences} | {s.reply_header for s in sequences}
    assert emails_by_message_id(portal.client) == dict.fromkeys(headers, 1)  # 500 emails, each once
    opened = sorted(str(s.events["opened"]) for s in sequences)
    assert sorted(e["id"] for e in sandbox.admin.timeline_events(portal.hub_id)) == opened
    rows = log_rows(engine, workspace)
    assert len(rows) == 750 and {r.status for r in rows} == {"logged"}
    assert len({r.hubspot_object_id for r in rows if r.hubspot_object_type == "email"}) == 500
