"""The deployment topology, tested on one machine (issue #19, part 1).

The sandbox, a code server (`dagster api grpc`), the daemon, the webserver and the API with two workers run as
separate processes, each in its own working directory with its own DAGSTER_HOME (the same dagster.yaml) and
data folder, sharing only PostgreSQL, the network and their settings (`stack.py`). Through them: workspaces
connect over OAuth through the API, a backfill of several workspaces launched through the webserver completes
in the daemon's runs, a HubSpot edit reaches its lead by webhook, and the API and the webserver show the runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from stack import Stack, scratch_database, wait_until

from hubspot_pipeline.api import keys
from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING, get_engine
from hubspot_pipeline.db.tables import hubspot_sync_status, leads, webhook_events, workspaces
from hubspot_pipeline.sandbox.admin_client import SandboxAdmin

# Generous bounds: under a loaded machine every run's process start alone took 80 s (docs/benchmarks.md), and
# the local run launcher starts runs one at a time.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

WORKSPACES = 3
LEADS = 8


@pytest.fixture(scope="module")
def topology_database() -> Iterator[str]:
    """A database of its own: the stack's daemon acts on every workspace it finds, and the session's test
    database holds other tests' workspaces (with stand-in tokens)."""
    with scratch_database("hp_topology") as url:
        yield url


def _workspaces(engine: sa.Engine) -> list[tuple[uuid.UUID, str, str]]:
    """ColdCopy's side: workspaces with leads, and an API key each (id, slug, key). Loaded as a bulk load is
    (no outbox rows): the backfill's full resyncs make their contacts, not runs the outbox sensor launches first."""
    made = []
    with engine.begin() as conn:
        conn.execute(
            sa.text("SELECT set_config(:name, :value, true)"),
            {"name": WRITER_SETTING, "value": BULK_LOAD_WRITER},
        )
        for index in range(WORKSPACES):
            slug = f"topo-{index}-{uuid.uuid4().hex[:6]}"
            workspace_id = conn.execute(
                sa.insert(workspaces).values(name=f"Topology {index}", slug=slug).returning(workspaces.c.id)
            ).scalar_one()
            conn.execute(
                sa.insert(leads),
                [
                    {
                        "workspace_id": workspace_id,
                        "email": f"lead{n}@topo{index}.example.com",
                        "first_name": f"First{n}",
                        "last_name": f"Last{n}",
                    }
                    for n in range(LEADS)
                ],
            )
            made.append((workspace_id, slug, keys.issue_key(conn, workspace_id, "topology").key))
    return made


def _partitions(stack: Stack) -> set[str]:
    data = stack.graphql(
        """
        query {
          partitionSetOrError(
            repositorySelector: {repositoryLocationName: "hubspot_pipeline", repositoryName: "__repository__"},
            partitionSetName: "contacts_reconcile_job_partition_set"
          ) { ... on PartitionSet { partitionsOrError { ... on Partitions { results { name } } } } }
        }"""
    )
    return {p["name"] for p in data["partitionSetOrError"]["partitionsOrError"]["results"]}


def test_every_part_in_its_own_process_shares_only_postgres(topology_database: str) -> None:
    engine = get_engine(topology_database)
    made = _workspaces(engine)
    hub_ids: dict[uuid.UUID, int] = {}

    def connect_workspaces(stack: Stack) -> None:
        # Job titles only: the leads have none, so the contacts the backfill creates send no webhooks back.
        stack.point_webhooks_at_api(("jobtitle",))
        admin = SandboxAdmin(stack.sandbox_url, 1234567)
        try:
            for workspace_id, _slug, key in made:
                hub_ids[workspace_id] = admin.add_portal()[0]
                stack.connect(key, hub_ids[workspace_id])
        finally:
            admin.close()

    with Stack.start(topology_database, api_workers=2, before_daemon=connect_workspaces) as stack:
        try:
            _check(stack, engine, made, hub_ids)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{stack.logs()}") from None
        folders = [process.folder for process in stack.processes.values()]
        # No process generated a key or secret of its own: each comes from the shared settings.
        assert not [path for folder in folders for path in (folder / "data").glob("*")]


def _check(
    stack: Stack, engine: sa.Engine, made: list[tuple[uuid.UUID, str, str]], hub_ids: dict[uuid.UUID, int]
) -> None:
    slugs = [slug for _id, slug, _key in made]
    # The daemon's partition sensor adds the connected workspaces; a backfill of all of them, as from the UI.
    wait_until("the workspace partitions", lambda: set(slugs) <= _partitions(stack), 90, interval=1)
    backfill = stack.launch_backfill("contacts_reconcile_job", slugs)
    status = wait_until(
        "the backfill to finish",
        lambda: (s := stack.backfill_status(backfill)) not in {"REQUESTED", "CANCELING", "FAILING"} and s,
        600,
        interval=1,
    )
    runs = stack.runs({"dagster/backfill": backfill})
    assert status == "COMPLETED_SUCCESS", runs
    assert sorted(run["tags"]["dagster/partition"] for run in runs) == sorted(slugs)
    assert {run["status"] for run in runs} == {"SUCCESS"}
    assert all(run["assetCheckSelection"] is None for run in runs)  # the whole job: its checks included

    # Rows in PostgreSQL: every lead of every workspace is paired with a contact its run created.
    status_c = hubspot_sync_status.c
    with engine.connect() as conn:
        synced = dict(
            conn.execute(
                sa.select(status_c.workspace_id, sa.func.count())
                .where(
                    status_c.entity_type == "contact",
                    status_c.status == "synced",
                    status_c.hubspot_id.is_not(None),
                )
                .group_by(status_c.workspace_id)
            ).all()
        )
    assert synced == {workspace_id: LEADS for workspace_id, _slug, _key in made}

    # A HubSpot user edits a contact: webhook -> API -> webhook_events -> the daemon's sensor -> a run.
    workspace_id, _slug, key = made[0]
    with engine.connect() as conn:
        lead_id, contact_id = conn.execute(
            sa.select(status_c.entity_id, status_c.hubspot_id)
            .where(status_c.workspace_id == workspace_id, status_c.entity_type == "contact")
            .order_by(status_c.entity_id)
            .limit(1)
        ).one()
    admin = SandboxAdmin(stack.sandbox_url, hub_ids[workspace_id])
    try:
        admin.ui_edit(contact_id, {"jobtitle": "Edited-in-HubSpot"}, hub_id=hub_ids[workspace_id])
    finally:
        admin.close()

    def title() -> str | None:
        with engine.connect() as conn:
            value = conn.execute(sa.select(leads.c.title).where(leads.c.id == lead_id)).scalar_one()
        return value if value == "Edited-in-HubSpot" else None

    wait_until("the HubSpot edit to reach its lead", title, 300, interval=0.5)
    with engine.connect() as conn:
        received = conn.execute(
            sa.select(webhook_events.c.processed_at).where(
                webhook_events.c.workspace_id == workspace_id,
                webhook_events.c.object_id == int(contact_id),
                webhook_events.c.property_name == "jobtitle",
            )
        ).all()
    assert received and all(row.processed_at is not None for row in received)
    # The daemon launched the webhook's run without the consistency checks (the schedule's runs check).
    webhook_runs = stack.runs({"hubspot_pipeline/trigger": "webhooks"})
    assert webhook_runs and all(run["assetCheckSelection"] == [] for run in webhook_runs), webhook_runs

    # The API (its own DAGSTER_HOME, the same storage) shows the workspace's runs: the backfill's and the
    # webhook's, finished.
    def api_runs() -> list[dict] | None:
        body = stack.api("GET", "/sync/status", key).json()
        runs = body["dagster_runs"] or []
        triggers = {run["trigger"] for run in runs if run["status"] == "SUCCESS"}
        return runs if {"webhooks", "backfill"} <= triggers else None

    runs = wait_until("the API to show the webhook's run", api_runs, 120, interval=1)
    backfill_runs = [run for run in runs if run["trigger"] == "backfill"]
    assert [run["status"] for run in backfill_runs] == ["SUCCESS"], runs
    assert backfill_runs[0]["counts"].get("push_new") == LEADS, runs  # its run made the contacts
