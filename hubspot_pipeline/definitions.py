"""The Dagster code location: every area under `defs/`, plus the cross-cutting pieces."""

from pathlib import Path

import dagster as dg


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
