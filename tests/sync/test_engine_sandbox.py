"""The sync engine on PostgreSQL and the sandbox over HTTP: first sync both ways, echo-free second run,
changes on either side, conflicts recorded, faults (5xx, dropped connections, 429s) and a run killed
mid-push, deletions and archives. No mocks: the real client, the real schema and trigger.

Dagster is not involved here (see test_contacts_defs.py).
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_config, hubspot_sync_status, leads, sync_conflicts
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync import engine as sync_engine
from hubspot_pipeline.sync.engine import prepare, run_contact_sync
from hubspot_pipeline.sync.properties import ensure_hubspot_properties

WRITE_ENDPOINTS = ("batch/upsert", "batch/update", "batch/create")
# The sandbox has no index lag here, and the client learns HubSpot's clock from the Date header, in whole
# seconds (up to ~2 s stale): a horizon a little in the future reads every write made so far.
SEARCH_LAG = -3.0


def sync(engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID, **options):
    ensure_hubspot_properties(prepare(engine, client, workspace_id))
    return run_contact_sync(engine, client, workspace_id, search_lag_seconds=SEARCH_LAG, **options)


def add_leads(engine: sa.Engine, workspace_id: uuid.UUID, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(leads), [{"workspace_id": workspace_id, **row} for row in rows])


def lead_rows(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(leads).where(leads.c.workspace_id == workspace_id, leads.c.deleted_at.is_(None))
        )
        return {row.email.lower(): dict(row._mapping) for row in rows}


def contacts(client: HubSpotClient) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for page, _ in client.list_pages(
        "contacts", ["email", "firstname", "lastname", "jobtitle", "coldcopy_lead_status"]
    ):
        for record in page:
            email = (record["properties"].get("email") or "").lower()
            assert email not in out, f"{email} is in HubSpot twice"
            out[email] = record["properties"] | {"id": record["id"]}
    return out


def write_calls(sandbox: SandboxHandle) -> int:
    by_endpoint = sandbox.admin.counters()["byEndpoint"]
    return sum(
        sum(by_status.values()) for name, by_status in by_endpoint.items() if name.endswith(WRITE_ENDPOINTS)
    )


def statuses(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, int]:
    """How many of the workspace's pairs are in each status."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(hubspot_sync_status.c.status, sa.func.count())
            .where(hubspot_sync_status.c.workspace_id == workspace_id)
            .group_by(hubspot_sync_status.c.status)
        ).all()
    return dict(rows)


def test_first_sync_pushes_leads_pulls_contacts_and_a_second_run_writes_nothing(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(
        engine,
        workspace_id,
        [{"email": f"lead{i}@example.com", "first_name": f"Lead{i}", "title": "CTO"} for i in range(230)],
    )
    hubspot_client.batch_upsert(
        "contacts",
        [
            {"email": "hub1@example.com", "firstname": "Hub", "jobtitle": "CEO"},
            {"email": "lead1@example.com", "firstname": "", "lastname": "Known"},
        ],
    )
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0, report.error_samples
    in_hubspot = contacts(hubspot_client)
    assert len(in_hubspot) == 231
    assert in_hubspot["lead7@example.com"]["firstname"] == "Lead7"
    assert in_hubspot["lead1@example.com"]["lastname"] == "Known"  # HubSpot's value kept, not cleared
    assert in_hubspot["hub1@example.com"]["coldcopy_lead_status"] == "new"
    in_coldcopy = lead_rows(engine, workspace_id)
    assert in_coldcopy["hub1@example.com"]["first_name"] == "Hub"
    assert in_coldcopy["lead1@example.com"]["last_name"] == "Known"

    before = write_calls(hubspot_sandbox)
    again = sync(engine, hubspot_client, workspace_id)
    assert write_calls(hubspot_sandbox) == before
    assert again.counts["push"] == 0 and again.counts["pull"] == 0


def set_config(engine: sa.Engine, workspace_id: uuid.UUID, **values) -> None:
    from sqlalchemy.dialects.postgresql import insert

    with engine.begin() as conn:
        statement = insert(hubspot_sync_config).values(workspace_id=workspace_id, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["workspace_id"], set_=values))


def update_lead(engine: sa.Engine, workspace_id: uuid.UUID, current_email: str, **values) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(leads)
            .where(leads.c.workspace_id == workspace_id, leads.c.email == current_email)
            .values(**values)
        )


def test_changes_on_either_side_flow_and_a_conflict_keeps_both_values_and_the_decision(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    set_config(engine, workspace_id, conflict_policy="hubspot_wins")
    add_leads(
        engine,
        workspace_id,
        [{"email": f"p{i}@example.com", "first_name": f"P{i}", "title": "CTO"} for i in range(3)],
    )
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    update_lead(engine, workspace_id, "p0@example.com", title="VP Sales")  # ColdCopy only
    hubspot_sandbox.admin.ui_edit(ids["p1@example.com"], {"firstname": "Penelope"})  # HubSpot only
    update_lead(engine, workspace_id, "p2@example.com", title="Founder")  # both, differently
    hubspot_sandbox.admin.ui_edit(ids["p2@example.com"], {"jobtitle": "Chair"})

    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0
    in_hubspot, in_coldcopy = contacts(hubspot_client), lead_rows(engine, workspace_id)
    assert in_hubspot["p0@example.com"]["jobtitle"] == "VP Sales"
    assert in_coldcopy["p1@example.com"]["first_name"] == "Penelope"
    assert in_coldcopy["p2@example.com"]["title"] == in_hubspot["p2@example.com"]["jobtitle"] == "Chair"
    with engine.connect() as conn:
        [conflict] = conn.execute(
            sa.select(sync_conflicts).where(sync_conflicts.c.workspace_id == workspace_id)
        ).all()
    assert (conflict.field, conflict.coldcopy_value, conflict.hubspot_value) == (
        "jobtitle",
        "Founder",
        "Chair",
    )
    assert (conflict.policy, conflict.winner, conflict.resolved_value) == ("hubspot_wins", "hubspot", "Chair")
    # The sync's own write to the lead is not in the outbox, so nothing echoes back.
    before = write_calls(hubspot_sandbox)
    assert sync(engine, hubspot_client, workspace_id).counts["push"] == 0
    assert write_calls(hubspot_sandbox) == before


def test_faults_and_a_run_killed_mid_push_converge_with_no_duplicate(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(
        engine, workspace_id, [{"email": f"k{i}@example.com", "first_name": f"K{i}"} for i in range(350)]
    )
    hubspot_sandbox.admin.configure(
        faults={"error_500": 0.15, "error_503": 0.05, "drop_connection": 0.05, "rate_limit_429": 0.05}
    )
    # A run killed after its HubSpot writes, before it recorded anything.
    ensure_hubspot_properties(prepare(engine, hubspot_client, workspace_id))
    job = prepare(engine, hubspot_client, workspace_id, search_lag_seconds=SEARCH_LAG)
    changed = sync_engine.read_changed_leads(job)
    plan = sync_engine.plan_sync(job, changed, sync_engine.read_changed_contacts(job, changed))
    sync_engine.push_contacts(job, plan)
    for _ in range(4):  # runs that meet faults until every row went through
        if sync(engine, hubspot_client, workspace_id).errors == 0:
            break
    hubspot_sandbox.admin.configure(
        faults={"error_500": 0, "error_503": 0, "drop_connection": 0, "rate_limit_429": 0}
    )
    sync(engine, hubspot_client, workspace_id)
    in_hubspot = contacts(hubspot_client)  # asserts no email twice
    assert sorted(in_hubspot) == sorted(lead_rows(engine, workspace_id))
    assert all(in_hubspot[f"k{i}@example.com"]["firstname"] == f"K{i}" for i in range(350))
    assert statuses(engine, workspace_id) == {
        "synced": 351
    }  # the leads' pairs and their company's (example.com)
    before = write_calls(hubspot_sandbox)
    sync(engine, hubspot_client, workspace_id)
    assert write_calls(hubspot_sandbox) == before


def test_a_failed_row_stays_in_the_retry_index_until_it_succeeds(engine, workspace_id, hubspot_client):
    add_leads(engine, workspace_id, [{"email": "good@example.com"}, {"email": "bad@example"}])
    first = sync(engine, hubspot_client, workspace_id)
    assert first.errors == 1
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(hubspot_sync_status).where(
                hubspot_sync_status.c.workspace_id == workspace_id, hubspot_sync_status.c.status == "error"
            )
        ).one()
    assert row.attempts == 1 and "email" in row.error_message.lower()
    assert sync(engine, hubspot_client, workspace_id).errors == 1  # retried with no change to the lead
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(hubspot_sync_status.c.attempts).where(hubspot_sync_status.c.id == row.id)
            ).scalar_one()
            == 2
        )
    update_lead(engine, workspace_id, "bad@example", email="fixed@example.com")
    assert sync(engine, hubspot_client, workspace_id).errors == 0
    assert "fixed@example.com" in contacts(hubspot_client)


def test_a_never_synced_failed_lead_read_with_a_synced_pair_does_not_fail_the_run(
    engine, workspace_id, hubspot_client
):
    # Regression (found with #9.5): pandas inferred a string column for `agreed`, so the NULL of a pair
    # that never succeeded became NaN next to a synced pair's value, and decoding it failed the whole run.
    add_leads(engine, workspace_id, [{"email": "fine@example.com"}, {"email": "never@example"}])
    assert sync(engine, hubspot_client, workspace_id).errors == 1
    update_lead(engine, workspace_id, "fine@example.com", title="CEO")  # read with the retried lead
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 1 and report.counts["push"] == 2  # the edit, and the retry HubSpot refuses again
    assert contacts(hubspot_client)["fine@example.com"]["jobtitle"] == "CEO"


def test_deleted_and_archived_records_are_not_recreated(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    set_config(engine, workspace_id, on_hubspot_archive="delete_lead")
    add_leads(engine, workspace_id, [{"email": "gone@example.com"}, {"email": "archived@example.com"}])
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    with engine.begin() as conn:
        conn.execute(
            sa.delete(leads).where(leads.c.workspace_id == workspace_id, leads.c.email == "gone@example.com")
        )
    hubspot_sandbox.admin.ui_edit(ids["gone@example.com"], {"firstname": "Still here"})
    hubspot_client.archive("contacts", ids["archived@example.com"])
    with engine.begin() as conn:  # what the API's webhook endpoint stores for the archive
        conn.execute(
            sa.text(
                "INSERT INTO webhook_events (portal_id, workspace_id, subscription_id, event_id, object_id, occurred_at, "
                "subscription_type, payload) VALUES (1, :ws, 1, 1, :oid, 1, 'contact.deletion', '{}')"
            ),
            {"ws": workspace_id, "oid": int(ids["archived@example.com"])},
        )
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["tombstones"] == 2 and report.counts["lead_deletes"] == 1
    assert lead_rows(engine, workspace_id) == {}  # neither re-created from HubSpot
    assert "archived@example.com" not in contacts(hubspot_client)
    hubspot_sandbox.admin.ui_edit(ids["gone@example.com"], {"firstname": "Again"})
    assert sync(engine, hubspot_client, workspace_id).counts["pull_new"] == 0


def test_a_dry_run_reports_the_plan_and_changes_nothing(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(engine, workspace_id, [{"email": f"d{i}@example.com"} for i in range(5)])
    hubspot_client.batch_upsert("contacts", [{"email": "fromhub@example.com", "firstname": "H"}])
    report = sync(engine, hubspot_client, workspace_id, dry_run=True)
    assert report.dry_run and report.counts["push_new"] == 5 and report.counts["pull_new"] == 1
    assert set(contacts(hubspot_client)) == {"fromhub@example.com"}
    assert set(lead_rows(engine, workspace_id)) == {f"d{i}@example.com" for i in range(5)}
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(hubspot_sync_status)
                .where(hubspot_sync_status.c.workspace_id == workspace_id)
            ).scalar_one()
            == 0
        )


def test_the_sync_command_prints_the_counts(engine, workspace_id, hubspot_sandbox):
    from click.testing import CliRunner

    from hubspot_pipeline.cli import main

    add_leads(engine, workspace_id, [{"email": "cli@example.com", "first_name": "Cli"}])
    args = [
        "sync",
        str(workspace_id),
        "--hubspot-url",
        hubspot_sandbox.base_url,
        "--private-app-token",
        hubspot_sandbox.private_app_token,
    ]
    dry = CliRunner().invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "pushed   1 (1 new contacts)" in dry.output and "dry run" in dry.output
    real = CliRunner().invoke(main, [*args, "--json"])
    assert real.exit_code == 0, real.output
    assert '"synced": 1' in real.output


def test_companies_are_found_or_created_by_domain_and_contacts_associated(
    engine, workspace_id, hubspot_client
):
    from hubspot_pipeline.sync.core.companies import domain_of

    assert domain_of("https://www.Acme.com/about", "") == "acme.com"
    assert domain_of("", "ada@gmail.com") == "" and domain_of("", "ada@initech.io") == "initech.io"
    existing = hubspot_client.batch_create(
        "companies", [{"domain": "acme.com", "name": "Acme"}], key_property="domain"
    )
    acme = existing.by_key["acme.com"]["id"]
    add_leads(
        engine,
        workspace_id,
        [
            {"email": "a1@acme.com", "company": "Acme Inc", "website": "https://acme.com"},
            {"email": "a2@acme.com", "company": "Acme Inc", "website": "www.acme.com"},
            {"email": "b1@initech.io", "company": "Initech", "website": None},
            {"email": "solo@gmail.com", "company": None, "website": None},
        ],
    )
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["companies_companies"] == 2 and report.counts["companies_created"] == 1
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    links = hubspot_client.batch_read_associations("contacts", "companies", list(ids.values()))
    assert set(links[ids["a1@acme.com"]]) == {str(acme)} and set(links[ids["a2@acme.com"]]) == {str(acme)}
    assert len(set(links[ids["b1@initech.io"]])) == 1 and not links.get(ids["solo@gmail.com"])
    companies = [r for page, _ in hubspot_client.list_pages("companies", ["domain"]) for r in page]
    assert sorted(c["properties"]["domain"] for c in companies) == ["acme.com", "initech.io"]
    again = sync(engine, hubspot_client, workspace_id)
    assert again.counts["companies_associated"] == 0 and again.counts["companies_created"] == 0


def test_a_full_resync_finds_a_change_the_outbox_missed_and_nothing_else(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING

    add_leads(engine, workspace_id, [{"email": f"r{i}@example.com", "title": "CTO"} for i in range(40)])
    sync(engine, hubspot_client, workspace_id, full=True)
    quiet = sync(engine, hubspot_client, workspace_id, full=True)
    assert quiet.counts["unchanged"] == 40 and quiet.counts["push"] == 0
    with engine.begin() as conn:  # a write the outbox does not see, as a bulk load's
        conn.execute(sa.text("SELECT set_config(:k, :v, true)"), {"k": WRITER_SETTING, "v": BULK_LOAD_WRITER})
        conn.execute(sa.update(leads).where(leads.c.email == "r7@example.com").values(title="CEO"))
    assert sync(engine, hubspot_client, workspace_id).counts["push"] == 0  # incremental: not seen
    before = write_calls(hubspot_sandbox)
    full = sync(engine, hubspot_client, workspace_id, full=True)
    assert full.counts["push"] == 1 and full.counts["unchanged"] == 39
    assert contacts(hubspot_client)["r7@example.com"]["jobtitle"] == "CEO"
    assert write_calls(hubspot_sandbox) == before + 1


def test_a_merge_from_the_webhook_queue_is_followed_and_the_loser_never_recreated(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(engine, workspace_id, [{"email": "keep@example.com"}, {"email": "lose@example.com"}])
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    hubspot_client.archive("contacts", ids["lose@example.com"])  # merged away: gone from the API
    payload = json.dumps(
        {"primaryObjectId": int(ids["keep@example.com"]), "mergedObjectIds": [int(ids["lose@example.com"])]}
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO webhook_events (portal_id, workspace_id, subscription_id, event_id, object_id, occurred_at, "
                "subscription_type, payload) VALUES (1, :ws, 2, 2, :oid, 2, 'contact.merge', CAST(:payload AS jsonb))"
            ),
            {"ws": workspace_id, "oid": int(ids["keep@example.com"]), "payload": payload},
        )
    update_lead(engine, workspace_id, "lose@example.com", title="Changed after the merge")
    report = sync(engine, hubspot_client, workspace_id)
    assert report.counts["tombstones"] == 1 and report.counts["push"] == 0
    assert set(contacts(hubspot_client)) == {"keep@example.com"}  # the merged-away contact is not re-created
