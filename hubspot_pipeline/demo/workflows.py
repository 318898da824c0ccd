"""The demo's workflow triggers: two per workspace, saved through the API's checks (an interested reply enrols
the contact in a HubSpot workflow; a score crossing 60 sets the contact's Lead Status), then events as
ColdCopy and the scoring record them (replies stored as POST /workflows/process stores them, with their intent
decided; score changes), and `workflow_triggers_job` run for each workspace twice: the first executes, the
second finds nothing to do."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_status, hubspot_workflow_executions, leads

THRESHOLD = 60
REPLIES = 2  # interested replies per workspace
CROSSINGS = 3  # leads whose score crosses the threshold per workspace
TEXT = "Sounds great - I'm interested. Could we set up a call next Tuesday?"


def _definitions(flow_id: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "Interested replies -> nurture workflow",
            "event_type": "positive_reply",
            "actions": [{"type": "enroll", "flow_id": flow_id}],
        },
        {
            "name": f"Score crosses {THRESHOLD} -> Lead Status open",
            "event_type": "high_engagement",
            "threshold": THRESHOLD,
            "actions": [{"type": "update_properties", "properties": {"hs_lead_status": "OPEN"}}],
        },
    ]


def _save_triggers(engine: sa.Engine, workspace_id: uuid.UUID, flow_id: str) -> None:
    from hubspot_pipeline.api.workflow_checks import trigger_problems
    from hubspot_pipeline.workflows.core.model import TriggerDefinition
    from hubspot_pipeline.workflows.store import triggers

    with engine.connect() as conn:
        existing = {t.definition.name for t in triggers.live(conn, workspace_id)}
    for raw in _definitions(flow_id):
        definition = TriggerDefinition.model_validate(raw)
        if definition.name in existing:
            continue
        problems = trigger_problems(definition, engine, workspace_id)
        if problems:
            raise RuntimeError(f"the demo's trigger {definition.name!r} was refused: {'; '.join(problems)}")
        with engine.begin() as conn:
            triggers.create(conn, workspace_id, definition)


def _record_events(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    from hubspot_pipeline.api.workflow_process import ProcessEvent, store_event
    from hubspot_pipeline.scoring.store.events import append_events, score_changed

    with engine.connect() as conn:
        synced = list(
            conn.scalars(
                sa.select(leads.c.id)
                .join(hubspot_sync_status, hubspot_sync_status.c.entity_id == leads.c.id)
                .where(
                    leads.c.workspace_id == workspace_id,
                    hubspot_sync_status.c.entity_type == "contact",
                    hubspot_sync_status.c.hubspot_id.is_not(None),
                )
                .order_by(leads.c.email)
                .limit(REPLIES + CROSSINGS)
            )
        )
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for lead_id in synced[:REPLIES]:
            reply = ProcessEvent(
                event_id=uuid.uuid4(),
                event_type="replied",
                lead_id=lead_id,
                occurred_at=now,
                message={
                    "message_id_header": f"<{uuid.uuid4().hex}@demo.example.com>",
                    "subject": "Re: intro",
                    "text": TEXT,
                },  # type: ignore[arg-type]
            )
            store_event(conn, workspace_id, reply)
        append_events(conn, [score_changed(workspace_id, lead_id, 40, 75) for lead_id in synced[REPLIES:]])


def run_demo_triggers(
    engine: sa.Engine,
    slugs: dict[uuid.UUID, str],
    sandbox: Any,
    instance: dg.DagsterInstance,
    run_log: Path,
    verbose: bool,
) -> None:
    from hubspot_pipeline.definitions import defs
    from hubspot_pipeline.demo.run_log import demo_loggers
    from hubspot_pipeline.sync.connection import workspace_hub_id

    for number, workspace_id in enumerate(slugs):
        hub_id = int(workspace_hub_id(engine, workspace_id) or sandbox.hub_id)
        flow = sandbox.admin.add_flow("ColdCopy nurture", workflow_id=7001 + number, hub_id=hub_id)
        _save_triggers(engine, workspace_id, str(flow["id"]))
        _record_events(engine, workspace_id)
    loggers, logger_config = demo_loggers(run_log, verbose)
    job = defs().resolve_job_def("workflow_triggers_job").with_logger_defs(loggers)
    columns = ("events", "executions", "success", "failed", "retrying", "waiting")
    for title in (
        f"run 7: workflow_triggers_job, 2 triggers per workspace (interested reply -> enrol in a workflow; "
        f"score crossing {THRESHOLD} -> Lead Status OPEN)",
        "run 8: workflow_triggers_job again, with nothing new",
    ):
        started = time.perf_counter()
        click.echo(f"\n{title}")
        click.echo(f"  {'workspace':<14}" + "".join(f"{name:>11}" for name in columns))
        for slug in slugs.values():
            result = job.execute_in_process(
                instance=instance,
                partition_key=slug,
                run_config={"loggers": logger_config},
                raise_on_error=True,
            )
            [event] = result.get_asset_materialization_events()
            meta = {k: v.value for k, v in event.materialization.metadata.items()}
            values = [meta["events_evaluated"], meta["executions_created"], *(meta[c] for c in columns[2:])]
            click.echo(f"  {slug:<14}" + "".join(f"{value:>11}" for value in values))
        click.echo(f"  time: {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                hubspot_workflow_executions.c.event_type,
                hubspot_workflow_executions.c.status,
                sa.func.count(),
            )
            .where(hubspot_workflow_executions.c.workspace_id.in_(list(slugs)))
            .group_by(hubspot_workflow_executions.c.event_type, hubspot_workflow_executions.c.status)
            .order_by(hubspot_workflow_executions.c.event_type)
        ).all()
    enrolled = sum(
        len(sandbox.admin.enrollments(hub_id=int(workspace_hub_id(engine, w) or 0))) for w in slugs
    )
    listed = ", ".join(f"{kind} {status} {count}" for kind, status, count in rows) or "none"
    click.echo(f"  executions: {listed}; contacts enrolled in HubSpot workflows: {enrolled}")
