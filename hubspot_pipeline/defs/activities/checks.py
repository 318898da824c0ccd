"""Health of a day's email activity, checked at the end of every activity batch, per day x workspace
partition: events not in HubSpot an hour after they happened, and the share of events that failed. WARN:
they ask a person to look (GET /sync/status lists the errors), they do not stop anything."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.activities.store.status import window_health
from hubspot_pipeline.defs.activities.partitions import ACTIVITY_PARTITIONS

ASSET = dg.AssetKey(["activities", "activity_batches"])
MAX_ERROR_RATE = 0.05
LATE_AFTER = timedelta(hours=1)


def _spec(name: str, description: str) -> dg.AssetCheckSpec:
    with warnings.catch_warnings():
        # Partitioned checks are "preview" in Dagster 1.13; they are what makes a result per day x workspace.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=ASSET, description=description, partitions_def=ACTIVITY_PARTITIONS
        )


ACTIVITY_CHECKS = [
    _spec(
        "events_logged_within_an_hour",
        "Every email event of the day that happened over an hour ago is in HubSpot (the workspace's chosen "
        "types); those waiting for their lead's contact are counted apart.",
    ),
    _spec(
        "activity_error_rate",
        f"Under {MAX_ERROR_RATE:.0%} of the day's events that were sent to HubSpot failed (see the retry index).",
    ),
]


def activity_results(
    engine: sa.Engine, workspace_id: uuid.UUID, window: tuple[datetime, datetime], selected: set[str]
) -> Iterator[dg.AssetCheckResult]:
    with engine.connect() as conn:
        health = window_health(conn, workspace_id, window, datetime.now(UTC))
    results = {
        "events_logged_within_an_hour": (
            health.stale.ready + health.stale.waiting_for_contact == 0,
            {
                "late_events": health.stale.ready,
                "late_waiting_for_contact": health.stale.waiting_for_contact,
                "oldest_late_event": str(health.stale.oldest) if health.stale.oldest else "",
            },
        ),
        "activity_error_rate": (
            health.error_rate <= MAX_ERROR_RATE,
            {
                "error_rate": round(health.error_rate, 4),
                "failed": health.failed,
                "dead": health.dead,
                "logged": health.logged,
            },
        ),
    }
    for name, (passed, metadata) in results.items():
        if name in selected:
            yield dg.AssetCheckResult(
                asset_key=ASSET,
                check_name=name,
                passed=passed,
                severity=dg.AssetCheckSeverity.WARN,
                metadata=metadata,
            )  # type: ignore[misc]
