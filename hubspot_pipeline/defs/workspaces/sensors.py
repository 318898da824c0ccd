"""`workspace_partitions_sensor`: the `workspace` partitions follow the syncing workspaces."""

import dagster as dg

from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.sync.store.workspaces import syncing_workspaces


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Keeps the workspace partitions in step with the workspaces that sync: adds a workspace's slug when "
        "it connects HubSpot, removes it when it disconnects or turns its sync off, and removes any other key "
        "(one added by hand in the UI, or an old workspace-id key). Launches no runs."
    ),
)
def workspace_partitions_sensor(context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource):
    with sync_settings.engine().connect() as conn:
        wanted = {workspace.slug for workspace in syncing_workspaces(conn)}
    known = set(context.instance.get_dynamic_partitions(WORKSPACE))
    add, remove = sorted(wanted - known), sorted(known - wanted)
    if not add and not remove:
        return dg.SkipReason(f"{len(known)} workspace partitions, all current")
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if add:
        requests.append(WORKSPACE_PARTITIONS.build_add_request(add))
    if remove:
        requests.append(WORKSPACE_PARTITIONS.build_delete_request(remove))
    return dg.SensorResult(dynamic_partitions_requests=requests)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[workspace_partitions_sensor])
