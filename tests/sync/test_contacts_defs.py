"""The Dagster side of the contact sync: the definitions load, the job runs for a workspace partition against
PostgreSQL and the sandbox over HTTP (dry run first: metadata, no writes; then for real), the lead outbox
sensor launches one run per changed workspace with run keys and a cursor, the partitions sensor follows the
connected integrations, the schedule asks for every syncing workspace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_integrations, leads
from hubspot_pipeline.defs.contacts import assets, jobs, schedules, sensors
from hubspot_pipeline.defs.contacts.jobs import contacts_run_config
from hubspot_pipeline.defs.contacts.resources import ContactSyncResource


def _resource(database_url: str, sandbox) -> ContactSyncResource:
    return ContactSyncResource(
        database_url=database_url,
        hubspot_base_url=sandbox.base_url,
        private_app_token=sandbox.private_app_token,
        search_lag_seconds=-3,
    )


def _defs(database_url: str, sandbox) -> dg.Definitions:
    resource = _resource(database_url, sandbox)
    return dg.Definitions.merge(
        assets.defs(),
        jobs.defs(),
        sensors.defs(),
        schedules.defs(),
        dg.Definitions(resources={"contact_sync": resource}),
    )


def _connect(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id, hub_id="1234567", refresh_token="ciphertext"
            )
        )


def test_the_project_definitions_load():
    from hubspot_pipeline.definitions import defs

    loaded = defs()
    dg.Definitions.validate_loadable(loaded)
    assert loaded.resolve_job_def("contacts_sync_job") and loaded.resolve_job_def("contacts_reconcile_job")


def test_the_job_dry_runs_then_syncs_a_workspace_partition(
    database_url, engine, workspace_id, hubspot_sandbox
):
    with engine.begin() as conn:
        conn.execute(
            sa.insert(leads),
            [
                {"workspace_id": workspace_id, "email": f"dag{i}@example.com", "first_name": f"D{i}"}
                for i in range(12)
            ],
        )
    defs = _defs(database_url, hubspot_sandbox)
    job = defs.resolve_job_def("contacts_sync_job")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [str(workspace_id)])
        dry = job.execute_in_process(
            partition_key=str(workspace_id), instance=instance, run_config=contacts_run_config(dry_run=True)
        )
        assert dry.success
        plan_meta = _metadata(dry, ["contacts", "sync_plan"])
        assert plan_meta["push_new"] == 12 and plan_meta["dry_run"] is True
        assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/upsert") == 0

        real = job.execute_in_process(partition_key=str(workspace_id), instance=instance)
        assert real.success
        assert _metadata(real, ["contacts", "lead_updates"])["synced"] == 12
        checks = {e.check_name: e.passed for e in real.get_asset_check_evaluations()}
        assert checks == {
            "sync_error_rate": True,
            "stuck_retry_rows": True,
            "cursor_lag": True,
            "sample_pairs_match": True,
        }


def _metadata(result: dg.ExecuteInProcessResult, key: list[str]) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_the_outbox_sensor_launches_one_run_per_changed_workspace(
    database_url, engine, workspace_id, hubspot_sandbox
):
    _connect(engine, workspace_id)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(leads), [{"workspace_id": workspace_id, "email": f"s{i}@example.com"} for i in range(3)]
        )
    defs = _defs(database_url, hubspot_sandbox)
    sensor = defs.resolve_sensor_def("lead_outbox_sensor")
    resources = {"contact_sync": _resource(database_url, hubspot_sandbox)}
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor="0", resources=resources)
        result = sensor(context)
        mine = [r for r in result.run_requests if r.partition_key == str(workspace_id)]
        assert len(mine) == 1 and mine[0].run_key.startswith(f"outbox:{workspace_id}:")
        assert any(str(workspace_id) in req.partition_keys for req in result.dynamic_partitions_requests)
        again = sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor, resources=resources))
        assert isinstance(again, dg.SkipReason)


def test_partitions_follow_connected_workspaces_and_the_schedule_asks_for_each(
    database_url, engine, workspace_id, hubspot_sandbox
):
    _connect(engine, workspace_id)
    defs = _defs(database_url, hubspot_sandbox)
    resources = {"contact_sync": _resource(database_url, hubspot_sandbox)}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", ["00000000-0000-0000-0000-000000000000"])
        result = defs.resolve_sensor_def("workspace_partitions_sensor")(
            dg.build_sensor_context(instance=instance, resources=resources)
        )
        [add, remove] = result.dynamic_partitions_requests
        assert str(workspace_id) in add.partition_keys
        assert remove.partition_keys == ["00000000-0000-0000-0000-000000000000"]
        instance.add_dynamic_partitions("workspace", [str(workspace_id)])
        requests = schedules.contacts_sync_schedule(
            dg.build_schedule_context(
                instance=instance,
                scheduled_execution_time=datetime(2026, 11, 28, 0, 15, tzinfo=UTC),
                resources=resources,
            )
        )
        keys = [r.partition_key for r in requests]
        assert str(workspace_id) in keys
