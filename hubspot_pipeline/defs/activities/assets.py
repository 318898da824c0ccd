"""`activities/activity_batches`: a day's email events of a workspace, each logged to HubSpot once (an email
engagement, a timeline event, or a note on a private-app portal), by `activities.engine.log_activities`.

One partition per UTC day x workspace. Today's partition runs as events arrive and yesterday's once more after
midnight (sensors.py); any date range of chosen workspaces is a backfill from the UI, and runs again and again
without writing anything twice. A run over a range of one workspace's days (the backlog sensor's catch-up,
a first connect's 90 days) logs the whole range at once and materializes each of its days. Its upstream is the workspace's contact sync (`contacts/sync_state`): an event
waits until its lead's contact exists, so a backfill that selects both runs the contacts first.
"""

import warnings
from collections.abc import Iterator

import dagster as dg

from hubspot_pipeline.activities.engine import log_activities
from hubspot_pipeline.activities.templates import DeveloperCredentials
from hubspot_pipeline.defs.activities.checks import ACTIVITY_CHECKS, ASSET, activity_results
from hubspot_pipeline.defs.activities.partitions import ACTIVITY_PARTITIONS
from hubspot_pipeline.defs.activities.resources import ActivityBatchRun
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE

GROUP = "activities"

with warnings.catch_warnings():
    # "Beta" in Dagster 1.13; it is what says that a day x workspace batch reads its workspace's contacts.
    warnings.simplefilter("ignore", dg.BetaWarning)
    _BY_WORKSPACE = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=WORKSPACE)


@dg.asset(
    key=ASSET,
    partitions_def=ACTIVITY_PARTITIONS,
    group_name=GROUP,
    kinds={"python", "hubspot", "postgres"},
    pool="hubspot_api",
    dagster_type=dg.Nothing,  # its result is in HubSpot and the log: nothing for an IO manager to store
    check_specs=ACTIVITY_CHECKS,
    deps=[dg.AssetDep(dg.AssetKey(["contacts", "sync_state"]), partition_mapping=_BY_WORKSPACE)],
    description=(
        "The day's email events of the workspace, each in HubSpot once: sent emails and replies as email "
        "engagements on the lead's contact, opens, clicks, bounces and unsubscribes as timeline events (notes "
        "on a private-app portal, or nothing, as the workspace chose), at the workspace's content level. "
        "Events waiting for their lead's contact are logged by a later run; failures go to the retry index. "
        "Metadata: counts by event type and object, never an address, a subject or an error text (HubSpot's "
        "may quote a value; GET /sync/status lists them)."
    ),
)
def activity_batches(
    context: dg.AssetExecutionContext, activity_batch_run: ActivityBatchRun
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    run = activity_batch_run
    settings = run.settings
    first, last = run.days
    report = log_activities(
        settings.engine(),
        run.client,
        run.workspace.id,
        window=run.window,
        event_types=run.event_types,
        run_id=context.run.run_id,
        developer=DeveloperCredentials.from_settings(run.client.base_url),
    )
    counts = report.counts
    yield dg.MaterializeResult(
        metadata={
            "day": first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}",
            "enabled": report.enabled,
            "timeline_events_supported": report.timeline_supported,
            "logged": counts["logged"],
            **{f"logged_{kind}": count for kind, count in sorted(report.logged_by_type.items())},
            "emails": counts["emails"],
            "timeline_events": counts["timeline_events"],
            "notes": counts["notes"],
            "skipped": counts["skipped"],
            "waiting_for_contact": counts["waiting_for_contact"],
            "failed": counts["failed"],
            "unknown_outcome": counts["unknown_outcome"],
            "recovered": counts["recovered_found"] + counts["recovered_absent"],
            "api_calls": report.api_calls,
            "seconds": report.seconds,
        }
    )
    selected = {check_key.name for check_key in context.selected_asset_check_keys}
    yield from activity_results(settings.engine(), run.workspace.id, run.window, selected)
    run.finished(report)  # recorded for monitoring when the run ends (resources.py)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[activity_batches])
