"""End to end on the local stack's real parts: the sandbox as HubSpot, `hubspot-pipeline serve` over HTTP,
PostgreSQL, the sensors and `contacts_sync_job` in a Dagster instance. A contact edited in the sandbox's UI
surface reaches its lead through webhook, queue, sensor and run; the echo of the sync's own writes changes
nothing. The search cursor's 30-second lag is left on, so the change can only arrive through the webhook."""

from __future__ import annotations

import time

import dagster as dg
import httpx
import sqlalchemy as sa
from api_support import Api, Tenant, url

from hubspot_pipeline.api import dagster_runs
from hubspot_pipeline.db.tables import lead_changes, leads, sync_requests, webhook_events, workspaces
from hubspot_pipeline.defs.contacts import assets, jobs
from hubspot_pipeline.defs.contacts.resources import ContactSyncRun
from hubspot_pipeline.defs.webhooks import sensors
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.sandbox.testing import SandboxHandle

WRITES = ("batch/upsert", "batch/update", "batch/create")


SETTINGS = {"sync_settings": SyncSettingsResource()}  # the test database, through DATABASE_URL


def _defs(database_url: str, sandbox: SandboxHandle) -> dg.Definitions:
    # OAuth with the tokens the callback stored: the run talks to the portal the workspace connected.
    settings = SyncSettingsResource(database_url=database_url, hubspot_api_base_url=sandbox.base_url)
    resources = {"sync_settings": settings, "contact_sync_run": ContactSyncRun(settings=settings)}
    return dg.Definitions.merge(assets.defs(), jobs.defs(), dg.Definitions(resources=resources))


def _tick(sensor, instance: dg.DagsterInstance, cursor: int | str):
    return sensor(dg.build_sensor_context(instance=instance, cursor=str(cursor), resources=SETTINGS))


def _launch(defs: dg.Definitions, instance, result, workspace: str) -> list[dg.ExecuteInProcessResult]:
    """What the daemon does with a tick's result, for this test's workspace (the database is shared)."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    runs = []
    for request in result.run_requests:
        if request.partition_key == workspace:
            job = defs.resolve_job_def(request.job_name or "contacts_sync_job")
            if request.asset_selection is not None:  # the run worker subsets the job to the run's selection
                job = job.get_subset(
                    asset_selection=set(request.asset_selection),
                    asset_check_selection=set(request.asset_check_keys or ()),
                )
            runs.append(
                job.execute_in_process(
                    partition_key=request.partition_key,
                    run_config=request.run_config,
                    tags=request.tags,
                    instance=instance,
                )
            )
    assert runs and all(run.success for run in runs)
    return runs


def _writes(sandbox: SandboxHandle, hub_id: int) -> int:
    by_endpoint = sandbox.admin.counters(hub_id)["byEndpoint"]
    return sum(sum(statuses.values()) for name, statuses in by_endpoint.items() if name.endswith(WRITES))


def _wait_for_events(engine: sa.Engine, tenant: Tenant, after_id: int, kind: str) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(sa.func.max(webhook_events.c.id)).where(
                    webhook_events.c.workspace_id == tenant.workspace_id,
                    webhook_events.c.id > after_id,
                    webhook_events.c.subscription_type == kind,
                )
            ).scalar_one()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {kind} webhook reached the queue")


def _lead(engine: sa.Engine, tenant: Tenant):
    with engine.connect() as conn:
        return conn.execute(sa.select(leads).where(leads.c.workspace_id == tenant.workspace_id)).one()


def _outbox(engine: sa.Engine, tenant: Tenant) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).where(lead_changes.c.workspace_id == tenant.workspace_id)
        ).scalar_one()


def _max(engine: sa.Engine, column) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(column), 0))).scalar_one()


def test_a_contact_edited_in_hubspot_reaches_its_lead_and_the_echo_changes_nothing(
    engine: sa.Engine,
    database_url: str,
    client,
    served_api: Api,
    sandbox_api: SandboxHandle,
    webhook_tenant: tuple[Tenant, int],
) -> None:
    tenant, hub_id = webhook_tenant
    with engine.connect() as conn:
        workspace = conn.execute(
            sa.select(workspaces.c.slug).where(workspaces.c.id == tenant.workspace_id)
        ).scalar_one()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(leads).values(
                workspace_id=tenant.workspace_id, email="ada@example.com", first_name="Ada"
            )
        )
    job = _defs(database_url, sandbox_api)
    events_cursor, requests_cursor = _max(engine, webhook_events.c.id), _max(engine, sync_requests.c.seq)
    with dg.instance_for_test() as instance:
        # First sync, asked for through the API: the lead becomes a HubSpot contact.
        request = httpx.post(
            served_api.base_url + url("/sync/contacts"), json={}, headers=tenant.headers
        ).json()
        tick = _tick(sensors.sync_request_sensor, instance, requests_cursor)
        [requested] = _launch(job, instance, tick, workspace)
        contact_id = str(_lead_contact_id(engine, tenant))

        # The sync's own write comes back as a webhook: a run for it changes nothing on either side.
        sandbox_api.admin.flush_webhooks()
        _wait_for_events(engine, tenant, events_cursor, "contact.creation")
        before, writes, outbox = _lead(engine, tenant), _writes(sandbox_api, hub_id), _outbox(engine, tenant)
        tick = _tick(sensors.webhook_queue_sensor, instance, events_cursor)
        _launch(job, instance, tick, workspace)
        events_cursor = int(tick.cursor)
        assert _lead(engine, tenant) == before
        assert (_writes(sandbox_api, hub_id), _outbox(engine, tenant)) == (writes, outbox)

        # A person edits the contact in HubSpot: webhook, queue, sensor, run, lead.
        sandbox_api.admin.ui_edit(contact_id, {"firstname": "Augusta"}, hub_id=hub_id)
        sandbox_api.admin.flush_webhooks()
        _wait_for_events(engine, tenant, events_cursor, "contact.propertyChange")
        tick = _tick(sensors.webhook_queue_sensor, instance, events_cursor)
        [edited] = _launch(job, instance, tick, workspace)
        lead = _lead(engine, tenant)
        assert lead.first_name == "Augusta"
        # The webhook's run leaves the consistency checks to the schedule's runs; the API's run checked.
        assert [len(list(run.get_asset_check_evaluations())) for run in (requested, edited)] == [4, 0]
        # Echo-free: the lead update was the sync's own (no outbox row), and nothing went back to HubSpot.
        assert (_writes(sandbox_api, hub_id), _outbox(engine, tenant)) == (writes, outbox)

        # The first request's outcome is written back for GET /sync/status.
        _tick(sensors.sync_request_sensor, instance, tick_cursor(engine))
        # And the status lists every run of the workspace, whatever launched it (an API sharing the instance).
        dagster_runs._instance.cache_clear()
        try:
            runs = client.get(url("/sync/status"), headers=tenant.headers).json()["dagster_runs"]
        finally:
            dagster_runs._instance.cache_clear()
        assert [run["trigger"] for run in runs] == ["webhooks", "webhooks", "api"]
        assert all(run["status"] == "SUCCESS" for run in runs)
        assert (runs[0]["counts"]["pull"], runs[1]["counts"]["pull"], runs[2]["counts"]["push"]) == (1, 0, 1)
    status = httpx.get(
        served_api.base_url + url(f"/sync/requests/{request['id']}"), headers=tenant.headers
    ).json()
    assert status["status"] == "succeeded"
    assert status["result"]["counts"]["contacts/sync_state"]["synced"] == 1


def tick_cursor(engine: sa.Engine) -> str:
    return str(_max(engine, sync_requests.c.seq))


def _lead_contact_id(engine: sa.Engine, tenant: Tenant) -> str:
    from hubspot_pipeline.db.tables import hubspot_sync_status

    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_sync_status.c.hubspot_id).where(
                hubspot_sync_status.c.workspace_id == tenant.workspace_id,
                hubspot_sync_status.c.entity_type == "contact",
            )
        ).scalar_one()
