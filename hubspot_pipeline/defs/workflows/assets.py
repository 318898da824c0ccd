"""`workflows/trigger_executions`: a workspace's workflow triggers evaluated against the events recorded since
its last run, and the executions that are due acted on (enrolments, property updates, custom actions), each
(trigger, event) at most once, by `workflows.engine`. One partition per workspace; launched by
engagement_threshold_sensor as events arrive and as retries fall due, or from the UI at any time (a run with
nothing new does nothing)."""

from collections.abc import Iterator

import dagster as dg

from hubspot_pipeline.defs.workflows.checks import ASSET, WORKFLOW_CHECKS, workflow_results
from hubspot_pipeline.defs.workflows.resources import WorkflowTriggerRun
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS

GROUP = "workflows"


@dg.asset(
    key=ASSET,
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds={"python", "hubspot", "postgres"},
    pool="hubspot_api",
    dagster_type=dg.Nothing,  # its result is in HubSpot and the executions table
    check_specs=WORKFLOW_CHECKS,
    # Enrolments and property updates need the lead's contact: an execution waits until the contact sync made it.
    deps=[dg.AssetKey(["contacts", "sync_state"])],
    description=(
        "The workspace's workflow triggers, evaluated against email and engagement events recorded since the "
        "last run, and their due executions run: contacts enrolled in HubSpot workflows, contact properties "
        "set, signed custom actions sent; each (trigger, event) once, failures retried with backoff then given "
        "up with their reason. Metadata: counts only, never an address or an error text (GET /workflows and "
        "the executions table hold them)."
    ),
)
def trigger_executions(
    context: dg.AssetExecutionContext, workflow_trigger_run: WorkflowTriggerRun
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    from hubspot_pipeline.workflows.engine import evaluate_new_events, run_due

    run = workflow_trigger_run
    engine = run.settings.engine()
    evaluation = evaluate_new_events(engine, run.workspace.id)
    report = run_due(engine, run.workspace.id, run.actors)
    run.finished(evaluation, report)
    yield dg.MaterializeResult(
        metadata={
            "events_evaluated": evaluation.events,
            "executions_created": evaluation.created,
            **report.counts,
        }
    )
    selected = {check_key.name for check_key in context.selected_asset_check_keys}
    yield from workflow_results(engine, run.workspace.id, selected)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[trigger_executions])
