"""A finished run, recorded once: its row in `sync_runs` (what the alert rules read), the run counter, its
HubSpot client's figures, and its audit entry (what triggered it, counts), in one transaction.

    record_run(engine, FinishedRun(run_id, "contacts_sync_job", workspace_id, "succeeded", trigger="webhooks",
                                   client=client.metrics, records_synced=..., counts=report.counts))

The run id makes it idempotent: the run's own process records it when it ends (success or failure), and the
run-failure sensor records runs that died before they could (killed, or failed while starting); whichever
comes second changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db import audit
from hubspot_pipeline.db.tables import sync_runs
from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.monitoring.calls import client_figures, failed_calls
from hubspot_pipeline.monitoring.catalogue import SYNC_RUNS
from hubspot_pipeline.monitoring.figures import Figures
from hubspot_pipeline.monitoring.store import record

OUTCOMES = ("succeeded", "failed")
RUNS_KEPT = timedelta(days=14)  # the alert windows need minutes; two weeks answer "what happened last week"
PRUNED_PER_CALL = 10_000


@dataclass
class FinishedRun:
    run_id: str
    job: str  # the Dagster job, or "cli"
    workspace_id: uuid.UUID | None
    outcome: str  # succeeded | failed
    trigger: str | None = None  # webhooks, outbox, api, schedule, backfill, ui, cli, ...
    dry_run: bool = False
    started_at: datetime | None = None
    client: ClientMetrics | None = None
    records_synced: int = 0
    records_failed: int = 0
    error: str | None = None  # what failed, by type (exception class, step key): never a message
    counts: dict[str, int | float] = field(default_factory=dict)  # for the audit entry: numbers only
    figures: Figures = field(default_factory=Figures)  # more figures of the run, recorded with it


def record_run(engine: sa.Engine, run: FinishedRun) -> bool:
    """Record the run; False when it was recorded before (nothing is counted twice)."""
    if run.outcome not in OUTCOMES:
        raise ValueError(f"a run's outcome is one of {OUTCOMES}, not {run.outcome!r}")
    counts = run.client.counts() if run.client is not None else None
    api_calls = sum(counts.calls.values()) if counts else 0
    api_errors = failed_calls(run.client) if run.client is not None else 0
    rate_limited = sum(counts.rate_limited.values()) if counts else 0
    with engine.begin() as conn:
        inserted: Any = conn.execute(
            insert(sync_runs)
            .values(
                run_id=run.run_id,
                job=run.job,
                workspace_id=run.workspace_id,
                trigger=run.trigger,
                outcome=run.outcome,
                dry_run=run.dry_run,
                started_at=run.started_at,
                finished_at=sa.func.now(),
                api_calls=api_calls,
                api_errors=api_errors,
                rate_limited=rate_limited,
                records_synced=run.records_synced,
                records_failed=run.records_failed,
                error=run.error,
            )
            # Recorded before: only what failed may be added (the run's process knew it failed, the
            # run-failure sensor knows why); nothing is counted twice.
            .on_conflict_do_update(
                index_elements=[sync_runs.c.run_id],
                set_={"error": sa.literal_column("excluded.error")},
                where=sa.and_(
                    sync_runs.c.outcome == "failed",
                    sync_runs.c.error.is_(None),
                    sa.literal_column("excluded.error").is_not(None),
                ),
            )
            .returning(sa.literal_column("xmax = 0").label("inserted"))
        ).first()
        if inserted is None or not inserted.inserted:
            return False
        figures = Figures()
        figures.count(SYNC_RUNS, job=run.job, outcome=run.outcome)
        if run.client is not None:
            figures.add(client_figures(run.client))
        figures.add(run.figures)
        record(conn, figures)
        audit.record(
            conn,
            workspace_id=run.workspace_id,
            actor="dagster" if run.job != "cli" else "cli",
            action="sync.run",
            target=run.run_id,
            details={
                "job": run.job,
                "trigger": run.trigger,
                "outcome": run.outcome,
                "dry_run": run.dry_run,
                "api_calls": api_calls,
                "api_errors": api_errors,
                "rate_limited": rate_limited,
                "records_synced": run.records_synced,
                "records_failed": run.records_failed,
                "error": run.error,
                "counts": {k: v for k, v in run.counts.items() if isinstance(v, int | float)},
            },
        )
    return True


def record_client_calls(engine: sa.Engine, metrics: ClientMetrics) -> None:
    """The figures of a client used outside any run (the API's own calls), when it is done."""
    figures = client_figures(metrics)
    if figures:
        with engine.begin() as conn:
            record(conn, figures)


def prune_runs(conn: sa.Connection, now: datetime) -> int:
    """Delete runs finished more than RUNS_KEPT ago, a bounded number per call (the alerts sensor calls it
    every minute); the counters keep their figures."""
    oldest = (
        sa.select(sync_runs.c.run_id).where(sync_runs.c.finished_at < now - RUNS_KEPT).limit(PRUNED_PER_CALL)
    )
    return conn.execute(sa.delete(sync_runs).where(sync_runs.c.run_id.in_(oldest.scalar_subquery()))).rowcount
