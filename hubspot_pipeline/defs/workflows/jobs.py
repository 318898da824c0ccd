"""`workflow_triggers_job`: one workspace's triggers, evaluated and acted on (partition: the workspace's slug)."""

from __future__ import annotations

import dagster as dg

from hubspot_pipeline.defs.workflows.checks import ASSET

workflow_triggers_job = dg.define_asset_job(
    "workflow_triggers_job",
    selection=dg.AssetSelection.assets(ASSET),
    description=(
        "Evaluates one workspace's workflow triggers against the events recorded since its last run and runs "
        "the executions due, each (trigger, event) once however often it runs. Launched by "
        "engagement_threshold_sensor within seconds of new events and as retries fall due."
    ),
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[workflow_triggers_job])
