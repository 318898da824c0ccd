"""Every day at 04:30 UTC (after the nightly full resync has started, away from it): the retention purge."""

import dagster as dg

from hubspot_pipeline.defs.privacy.jobs import retention_job


@dg.schedule(
    cron_schedule="30 4 * * *",
    job=retention_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 04:30 UTC: purge personal data past its retention age (RETENTION_* settings).",
)
def retention_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
    return dg.RunRequest(run_key=f"retention:{tick}")


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(schedules=[retention_schedule])
