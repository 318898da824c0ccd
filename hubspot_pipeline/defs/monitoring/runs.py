"""What a run of a workspace records when it ends, from its run-scoped resource's teardown (which runs
whether the run's op succeeded or raised): its outcome, trigger, HubSpot client's figures and counts
(monitoring/runs.py:record_run, once per run id). A run that dies before its teardown is recorded by
`run_failures_sensor` instead."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.monitoring import Figures
from hubspot_pipeline.monitoring.runs import FinishedRun, record_run


def record_workspace_run(
    context: dg.InitResourceContext,
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    client: HubSpotClient | None,
    *,
    succeeded: bool,
    dry_run: bool,
    started_at: datetime,
    records_synced: int = 0,
    records_failed: int = 0,
    counts: Mapping[str, int | float] | None = None,
    figures: Figures | None = None,
) -> None:
    run = context.run
    if run is None:
        return
    try:
        record_run(
            engine,
            FinishedRun(
                run_id=run.run_id,
                job=run.job_name,
                workspace_id=workspace_id,
                outcome="succeeded" if succeeded else "failed",
                trigger=tags.trigger_of(run.tags),
                dry_run=dry_run,
                started_at=started_at,
                client=client.metrics if client is not None else None,
                records_synced=records_synced,
                records_failed=records_failed,
                counts=dict(counts or {}),
                figures=figures or Figures(),
            ),
        )
    except Exception as error:  # the sync's own outcome stands; say what kept its figures out
        context.log.warning(f"the run's figures were not recorded: {type(error).__name__}")
