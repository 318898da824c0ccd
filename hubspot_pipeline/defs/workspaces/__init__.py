"""Workspaces as Dagster sees them, shared by every area: the `workspace` partitions (one per syncing
workspace, keyed by its slug), the sensor that keeps them in step, the settings resource, and what every run
of a workspace does when it starts (find the workspace its key names, tag the run)."""
