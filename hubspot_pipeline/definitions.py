"""The Dagster code location: every area under `defs/`, plus the cross-cutting pieces."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # The sync's steps form a chain that passes DataFrames along: one process per run avoids a
        # process start and a pickle round-trip per step, and parallelism comes from runs (one per
        # workspace), which the run queue and the shared HubSpot budget already bound.
        dg.Definitions(executor=dg.in_process_executor),
    )
