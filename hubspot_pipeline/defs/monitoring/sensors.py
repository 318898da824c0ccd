"""`alerts_sensor` evaluates the alert rules every minute; `run_failures_sensor` records every failed run of
the code location (the `run_failed` rule reads it), including runs that died before they could record
themselves (killed, or failed while starting)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import dagster as dg

from hubspot_pipeline.defs.monitoring.resources import MonitoringResource
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.monitoring.cycle import evaluate_alerts
from hubspot_pipeline.monitoring.runs import FinishedRun, record_run


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Evaluates the alert rules every minute (auth failures, error rates, queue and cursor delays, missed "
        "syncs, daily budget, 429s, failed runs and trigger executions) into the alerts table, and notifies "
        "ALERT_NOTIFY_URLS of new, still-firing (limited reminders) and resolved alerts. Launches no runs."
    ),
)
def alerts_sensor(context: dg.SensorEvaluationContext, monitoring: MonitoringResource) -> dg.SkipReason:
    report = evaluate_alerts(monitoring.engine(), monitoring.thresholds(), monitoring.notifier())
    return dg.SkipReason(report.describe())


def workspace_of(run_tags: Mapping[str, str]) -> uuid.UUID | None:
    """The run's workspace, from the tag its run request or its start gave it (none: it failed before)."""
    try:
        return uuid.UUID(run_tags[tags.WORKSPACE_ID])
    except (KeyError, ValueError):
        return None


def failure_type(context: dg.RunFailureSensorContext) -> str:
    """What failed, by type: the failing step and its exception's class (the innermost cause), never the
    message, which may quote a record."""
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        return f"{event.step_key}: {error.cls_name if error is not None else 'failure'}"
    data = context.failure_event.job_failure_data
    reason = data.failure_reason if data is not None else None
    return f"run: {reason.value if reason is not None else 'failure'}"


@dg.run_failure_sensor(
    name="run_failures_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Records each failed run of this code location (job, workspace, trigger, what failed by type) in "
        "sync_runs and the run counter, once per run; the run_failed alert fires until the job's next success."
    ),
)
def run_failures_sensor(context: dg.RunFailureSensorContext, monitoring: MonitoringResource) -> None:
    run = context.dagster_run
    record = context.instance.get_run_record_by_id(run.run_id)
    started = (
        datetime.fromtimestamp(record.start_time, UTC) if record is not None and record.start_time else None
    )
    recorded = record_run(
        monitoring.engine(),
        FinishedRun(
            run_id=run.run_id,
            job=run.job_name,
            workspace_id=workspace_of(run.tags),
            outcome="failed",
            trigger=tags.trigger_of(run.tags),
            started_at=started,
            error=failure_type(context),
        ),
    )
    context.log.info(
        f"run {run.run_id} of {run.job_name}: " + ("recorded" if recorded else "already recorded")
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[alerts_sensor, run_failures_sensor])
