"""The Dagster code location: every area under `defs/`, plus the cross-cutting pieces."""

from pathlib import Path

import dagster as dg
from dagster.components.core import package_entry

# `load_from_defs_folder` imports every installed Dagster plugin to describe its component types in the UI's
# catalog, in every process that loads this location (code server, each run, each sensor evaluation): with
# dagster-dbt installed that is 1.2 s of a 3.1 s import (round 1). This location uses no plugin's component
# type, so it lists Dagster's own only; the dbt models load in the `engagement` location (workspace.yaml).
# Dagster 1.13's hook; tests/defs/test_engagement_location.py fails if an upgrade makes it import dbt again.
_PLUGINS_USED = frozenset({"dagster"})
_all_plugin_entry_points = package_entry.get_plugin_entry_points


def _plugins_used() -> list:
    return [e for e in _all_plugin_entry_points() if e.value.split(".")[0].split(":")[0] in _PLUGINS_USED]


package_entry.get_plugin_entry_points = _plugins_used


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # One process per run: a run's stages hand their results to each other in memory, and
        # parallelism comes from runs (one per workspace), which the run queue and the shared HubSpot
        # budget already bound. An output that another asset reads stays in that process's memory too:
        # the default IO manager would pickle it (personal data) under Dagster's storage folder, where a
        # later partial run would load a stale copy. Across runs nothing is handed over.
        dg.Definitions(executor=dg.in_process_executor, resources={"io_manager": dg.mem_io_manager}),
    )
