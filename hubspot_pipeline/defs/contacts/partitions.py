"""One partition per connected workspace: workspaces are few, leads never become partitions."""

import dagster as dg

WORKSPACE_PARTITIONS = dg.DynamicPartitionsDefinition(name="workspace")


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions()
