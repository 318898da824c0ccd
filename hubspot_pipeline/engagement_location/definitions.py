"""The `engagement` code location (workspace.yaml): the dbt models and their publication, the job that runs
them for a workspace, and a schedule that rebuilds every workspace's scores after midnight UTC (decay moves
once a day). Loaded only by its own code server and runs, never by the main location's processes."""

import dagster as dg

from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.engagement_location.assets import (
    SOURCES,
    dbt_resource,
    engagement_models,
    lead_engagement,
)
from hubspot_pipeline.settings import get_settings

engagement_job = dg.define_asset_job(
    "engagement_job",
    selection=dg.AssetSelection.assets(engagement_models, lead_engagement),
    description="One workspace's engagement: dbt build of its rows (models and tests), then publication of "
    "its changed scores to lead_engagement, the lead outbox and the engagement events.",
    executor_def=dg.in_process_executor,
)


@dg.schedule(
    job=engagement_job,
    cron_schedule="15 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="After midnight UTC, each workspace's engagement once: scores decay by the day.",
)
def engagement_daily_schedule(context: dg.ScheduleEvaluationContext):
    day = context.scheduled_execution_time.date().isoformat()
    for slug in context.instance.get_dynamic_partitions(WORKSPACE_PARTITIONS.name):
        yield dg.RunRequest(run_key=f"engagement:{slug}:{day}", partition_key=slug)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[*SOURCES, engagement_models, lead_engagement],
        jobs=[engagement_job],
        schedules=[engagement_daily_schedule],
        resources={
            "dbt": dbt_resource(),
            "sync_settings": SyncSettingsResource.from_settings(get_settings()),
        },
    )
