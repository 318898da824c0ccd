"""The workspace's recent Dagster runs (whatever launched them: webhooks, the outbox, schedules, the API), for
GET /sync/status. Read from the Dagster instance the API shares with the daemon (DAGSTER_HOME set, as under
`hubspot-pipeline dev` and in deployments); without one, the status lists the API's own requests only."""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from hubspot_pipeline.defs.workspaces import tags

log = logging.getLogger(__name__)
COUNTED_ASSET = "contacts/sync_state"  # its metadata holds the run's counts (synced, pushed, pulled, ...)


@functools.cache
def _instance() -> Any:
    import dagster as dg
    from dagster._core.errors import DagsterHomeNotSetError, DagsterInvariantViolationError

    try:
        return dg.DagsterInstance.get()
    except (DagsterHomeNotSetError, DagsterInvariantViolationError):
        return None


def _counts(instance: Any, run_id: str) -> dict[str, int | float]:
    import dagster as dg

    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=50
    )
    for record in records.records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is not None and materialization.asset_key.to_user_string() == COUNTED_ASSET:
            return {
                name: value.value
                for name, value in materialization.metadata.items()
                if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue) and value.value is not None
            }
    return {}


def _time(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def recent_runs(workspace_id: uuid.UUID, limit: int = 10) -> list[dict[str, Any]] | None:
    """The workspace partition's latest runs, newest first; None when no Dagster instance is configured."""
    instance = _instance()
    if instance is None:
        return None
    import dagster as dg

    try:
        records = instance.get_run_records(
            filters=dg.RunsFilter(tags={tags.WORKSPACE_ID: str(workspace_id)}), limit=limit
        )
        return [
            {
                "run_id": record.dagster_run.run_id,
                "job": record.dagster_run.job_name,
                "status": record.dagster_run.status.value,
                "trigger": tags.trigger_of(record.dagster_run.tags),
                "started_at": _time(record.start_time),
                "finished_at": _time(record.end_time),
                "counts": _counts(instance, record.dagster_run.run_id),
            }
            for record in records
        ]
    except Exception as error:  # the status still answers with what the database holds
        log.warning("could not read Dagster runs: %s", type(error).__name__)
        return None
