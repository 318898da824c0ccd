"""record_run: a run is recorded once whoever records it (its own process, the run-failure sensor), with its
row, the run counter, its client's figures and one audit entry; the sensor may add what failed to a failure
the process recorded without knowing why."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import audit_log, metric_counters, sync_runs
from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.monitoring.runs import FinishedRun, record_run


def _runs_counter(engine: sa.Engine, job: str, outcome: str) -> float:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(metric_counters.c.value).where(
                    metric_counters.c.series == "hubspot_pipeline_sync_runs",
                    metric_counters.c.labels == {"job": job, "outcome": outcome},
                )
            ).scalar_one_or_none()
            or 0
        )


def test_a_run_is_recorded_once_and_a_later_failure_record_only_adds_its_type(engine, workspace_id) -> None:
    job = f"job_{uuid.uuid4().hex[:8]}"
    client = ClientMetrics()
    client.record_call("POST /crm/v3/objects/contacts/batch/upsert", 200, 0.1)
    client.record_call("POST /crm/v3/objects/contacts/batch/upsert", 503, 0.1)
    run = FinishedRun(
        "run-" + uuid.uuid4().hex, job, workspace_id, "failed", trigger="webhooks", client=client
    )
    assert record_run(engine, run) is True
    # The run-failure sensor comes second: it adds the failure's type, counts nothing again.
    again = FinishedRun(run.run_id, job, workspace_id, "failed", error="contacts_sync: HubSpotAuthError")
    assert record_run(engine, again) is False
    assert record_run(engine, again) is False
    assert _runs_counter(engine, job, "failed") == 1
    with engine.connect() as conn:
        row = conn.execute(sa.select(sync_runs).where(sync_runs.c.run_id == run.run_id)).one()
        audits = conn.execute(
            sa.select(audit_log.c.details).where(
                audit_log.c.action == "sync.run", audit_log.c.target == run.run_id
            )
        ).all()
    assert (row.api_calls, row.api_errors, row.error) == (2, 1, "contacts_sync: HubSpotAuthError")
    assert len(audits) == 1 and audits[0].details["trigger"] == "webhooks"
