"""Health of a workspace's workflow triggers, checked at the end of every trigger run: executions given up
in the last day. WARN: a person looks (GET /workflows lists the counts, the executions their errors)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_workflow_executions as executions
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS

ASSET = dg.AssetKey(["workflows", "trigger_executions"])
WINDOW = timedelta(days=1)

with warnings.catch_warnings():
    # Partitioned checks are "preview" in Dagster 1.13; they are what makes a result per workspace.
    warnings.simplefilter("ignore", dg.PreviewWarning)
    WORKFLOW_CHECKS = [
        dg.AssetCheckSpec(
            "no_failed_trigger_executions",
            asset=ASSET,
            description="No execution of the workspace's triggers was given up in the last 24 hours.",
            partitions_def=WORKSPACE_PARTITIONS,
        )
    ]


def workflow_results(
    engine: sa.Engine, workspace_id: uuid.UUID, selected: set[str]
) -> Iterator[dg.AssetCheckResult]:
    if "no_failed_trigger_executions" not in selected:
        return
    since = datetime.now(UTC) - WINDOW
    with engine.connect() as conn:
        failed = conn.execute(
            sa.select(sa.func.count()).where(
                executions.c.workspace_id == workspace_id,
                executions.c.status == "failed",
                executions.c.finished_at >= since,
            )
        ).scalar_one()
    yield dg.AssetCheckResult(
        asset_key=ASSET,
        check_name="no_failed_trigger_executions",
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed_last_24h": failed},
    )
