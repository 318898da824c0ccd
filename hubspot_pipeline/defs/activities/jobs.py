"""`activity_batches_job`: one UTC day's email activity of one workspace (partition `2026-11-29|acme`).
Sensors launch it as events arrive, after midnight and for every pending day; a date range of chosen
workspaces is a backfill of it (or of the asset) from the UI."""

from __future__ import annotations

import dagster as dg

from hubspot_pipeline.defs.activities.checks import ASSET
from hubspot_pipeline.defs.activities.resources import activity_run_config

activity_batches_job = dg.define_asset_job(
    "activity_batches_job",
    selection=dg.AssetSelection.assets(ASSET),
    description=(
        "Logs one UTC day's email events of one workspace to HubSpot, each event once however often it runs. "
        "Launched by the activity sensors within seconds of new events, after midnight for the day that ended, "
        "and for any day with events still pending; backfill a date range of chosen workspaces from the UI."
    ),
    config=activity_run_config(),
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[activity_batches_job])
