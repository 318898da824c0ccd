"""The sensors and schedule that launch contact syncs, and the one that keeps the workspace partitions:
partition keys are workspace slugs (old workspace-id keys and keys added by hand are removed), run requests
carry the workspace's name and id, the run keys make a double launch impossible, and which runs carry the
sync's consistency checks (the schedules', not the outbox sensor's)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import dagster as dg

from hubspot_pipeline.defs.contacts import jobs, schedules
from hubspot_pipeline.defs.workspaces import tags

from .conftest import add_leads, connect


def _settings(resources: dict[str, object]) -> dict[str, object]:
    """What the sensors and schedules ask for (the run-scoped resource exists only inside a run)."""
    return {"sync_settings": resources["sync_settings"]}


def test_partitions_become_the_slugs_of_syncing_workspaces(
    contact_defs, resources, engine, workspace_id, slug
):
    connect(engine, workspace_id)
    sensor = contact_defs.resolve_sensor_def("workspace_partitions_sensor")
    with dg.instance_for_test() as instance:
        # An old key (a workspace id, as before slugs) and one an operator added with "Add partition".
        instance.add_dynamic_partitions("workspace", [str(workspace_id), "typo-by-hand"])
        result = sensor(dg.build_sensor_context(instance=instance, resources=_settings(resources)))
        [add, remove] = result.dynamic_partitions_requests
        assert slug in add.partition_keys and str(workspace_id) not in add.partition_keys
        assert set(remove.partition_keys) == {str(workspace_id), "typo-by-hand"}
        assert all(":" not in k and "|" not in k and "," not in k for k in add.partition_keys)


def test_the_outbox_sensor_launches_one_tagged_run_per_changed_workspace(
    contact_defs, resources, engine, workspace_id, slug
):
    connect(engine, workspace_id)
    add_leads(engine, workspace_id, 3)
    sensor = contact_defs.resolve_sensor_def("lead_outbox_sensor")
    with dg.instance_for_test() as instance:
        result = sensor(
            dg.build_sensor_context(instance=instance, cursor="0", resources=_settings(resources))
        )
        [mine] = [r for r in result.run_requests if r.partition_key == slug]
        assert mine.run_key.startswith(f"outbox:{slug}:")
        assert mine.tags[tags.WORKSPACE_ID] == str(workspace_id)
        assert mine.tags[tags.WORKSPACE_NAME] == f"Test {slug}"
        assert mine.tags[tags.TRIGGER] == "outbox" and mine.tags[tags.SYNC_KIND] == "incremental"
        # Every asset of the job, none of its checks (the schedule's runs check).
        graph = contact_defs.resolve_asset_graph()
        assert set(mine.asset_selection) == jobs.CONTACT_SYNC.resolve(graph)
        assert mine.asset_check_keys == [] and len(graph.asset_check_keys) == 4
        assert any(slug in request.partition_keys for request in result.dynamic_partitions_requests)
        again = sensor(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, resources=_settings(resources))
        )
        assert isinstance(again, dg.SkipReason)


def test_the_schedules_ask_for_each_syncing_workspace_and_tag_full_syncs_as_full(
    resources, engine, workspace_id, slug
):
    connect(engine, workspace_id)
    unconnected = f"ws-{uuid.uuid4().hex[:10]}"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug, unconnected])
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
            resources=_settings(resources),
        )
        incremental = schedules.contacts_sync_schedule(context)
        full = schedules.contacts_reconcile_schedule(context)
    [mine] = [r for r in incremental if r.partition_key == slug]
    assert mine.tags[tags.SYNC_KIND] == "incremental" and mine.tags[tags.TRIGGER] == "schedule"
    [nightly] = [r for r in full if r.partition_key == slug]
    assert nightly.tags[tags.SYNC_KIND] == "full"
    assert nightly.run_config["resources"]["contact_sync_run"]["config"]["full_resync"] is True
    assert unconnected not in {r.partition_key for r in incremental}
    # The whole job, its checks included: every 15 minutes and every night each workspace is checked.
    assert (mine.asset_selection, mine.asset_check_keys) == (None, None)
    assert (nightly.asset_selection, nightly.asset_check_keys) == (None, None)
