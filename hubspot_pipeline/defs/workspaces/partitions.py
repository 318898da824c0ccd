"""One partition per syncing workspace, keyed by the workspace's slug: readable in every list, immutable,
and free of the characters Dagster reserves (`|` and `,` among them), so it also serves as the workspace
dimension of a multi-partition (day x workspace). Workspaces are few; leads never become partitions.

Only code adds and removes keys (`workspace_partitions_sensor`, and the sensors that launch a workspace's
first run). The UI offers "Add partition" all the same: a run of a key no workspace has is refused when it
starts, and the partitions sensor removes the key."""

import dagster as dg

WORKSPACE_PARTITIONS = dg.DynamicPartitionsDefinition(name="workspace")
WORKSPACE = "workspace"  # its name, for instance calls


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions()
