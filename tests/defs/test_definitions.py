"""The project's Dagster definitions as loaded by `dagster dev` (hubspot_pipeline.definitions): every object
an operator sees has a description, assets and checks are partitioned by workspace, and no asset output
that another asset reads goes through an IO manager (so nothing per run is pickled to disk). Runs are
covered in test_contact_sync_runs.py."""

from __future__ import annotations

import dagster as dg
import pytest

from hubspot_pipeline.defs.activities.partitions import ACTIVITY_PARTITIONS
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS


@pytest.fixture(scope="module")
def loaded() -> dg.Definitions:
    from hubspot_pipeline.definitions import defs

    definitions = defs()
    dg.Definitions.validate_loadable(definitions)
    return definitions


def test_every_asset_check_job_sensor_and_schedule_has_a_description(loaded: dg.Definitions) -> None:
    graph = loaded.resolve_asset_graph()
    missing = [
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable and not graph.get(key).description
    ]
    for check_key in graph.asset_check_keys:
        if not graph.get_check_spec(check_key).description:
            missing.append(f"check {check_key.to_user_string()}")
    repository = loaded.get_repository_def()
    missing += [
        f"job {j.name}"
        for j in repository.get_all_jobs()
        if not j.name.startswith("__") and not j.description
    ]
    missing += [f"sensor {s.name}" for s in repository.sensor_defs if not s.description]
    missing += [f"schedule {s.name}" for s in repository.schedule_defs if not s.description]
    assert missing == []
    assert graph.asset_check_keys and repository.sensor_defs and repository.schedule_defs


def _by_workspace(partitions_def: dg.PartitionsDefinition | None) -> bool:
    """Partitioned by workspace slug: the workspace partitions, or a day x workspace multi-partition."""
    if partitions_def == WORKSPACE_PARTITIONS:
        return True
    return isinstance(partitions_def, dg.MultiPartitionsDefinition) and partitions_def == ACTIVITY_PARTITIONS


def test_assets_and_checks_are_partitioned_by_workspace_slug(loaded: dg.Definitions) -> None:
    graph = loaded.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        # Assets of ColdCopy and of the engagement location are drawn here without being defined here.
        assert _by_workspace(graph.get(key).partitions_def) or not graph.get(key).is_materializable, key
    dimensions = {d.name: d.partitions_def for d in ACTIVITY_PARTITIONS.partitions_defs}
    assert dimensions["workspace"] == WORKSPACE_PARTITIONS
    # A check without the partitions shows "Partition -" and one latest result for every workspace.
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        assert spec.partitions_def == graph.get(check_key.asset_key).partitions_def, check_key


def test_no_asset_reads_another_assets_output_through_an_io_manager(loaded: dg.Definitions) -> None:
    assets_defs = [a for a in loaded.assets or [] if isinstance(a, dg.AssetsDefinition)]
    assert assets_defs
    for assets_def in assets_defs:
        node = assets_def.node_def
        # Stages hand their results over in memory inside one op: an input is only an ordering edge...
        assert all(i.dagster_type.is_nothing for i in node.input_defs), node.name
        # ...and an asset's output carries no value for an IO manager to pickle.
        for output_name, asset_key in assets_def.keys_by_output_name.items():
            assert node.output_def_named(output_name).dagster_type.is_nothing, asset_key


def test_the_lineage_reads_stage_to_stage(loaded: dg.Definitions) -> None:
    graph = loaded.resolve_asset_graph()
    parents = {
        key.path[-1]: sorted(p.path[-1] for p in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    assert (
        parents
        == {
            "field_mappings": [],
            "leads": ["field_mappings", "lead_engagement"],  # engagement fields, from the engagement location
            "hubspot_contacts": ["field_mappings", "leads"],
            "hashed_diffs": ["hubspot_contacts", "leads"],
            "pushed_contacts": ["hashed_diffs"],
            "sync_state": ["hashed_diffs", "pushed_contacts"],
            "hubspot_companies": ["pushed_contacts"],
            "activity_batches": ["sync_state"],  # a day's events wait for their workspace's contacts
            "trigger_executions": ["sync_state"],  # enrolments wait for the lead's contact too
            "reply_intents": ["email_events", "email_messages"],
            "email_events": [],
            "email_messages": [],
            "lead_engagement": [],  # the engagement location's: its lineage is tested in test_engagement_location.py
        }
    )


def test_an_output_another_asset_reads_would_stay_in_the_runs_memory(loaded: dg.Definitions) -> None:
    # The shape later assets follow: in-process runs, and no filesystem IO manager pickling their outputs.
    job = loaded.resolve_job_def("contacts_sync_job")
    assert job.executor_def is dg.in_process_executor
    assert job.resource_defs["io_manager"] is dg.mem_io_manager
