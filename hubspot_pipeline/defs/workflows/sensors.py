"""`engagement_threshold_sensor` (every 5 s): new email events (their `seq`) and engagement events (their id:
score changes, decided intents) since its cursors launch a trigger run for each workspace they belong to that
has live triggers; once a minute, so do workspaces with executions due (a retry, a contact now in HubSpot),
unless a trigger run of the workspace is already queued or running (it takes what is due).

Run keys name the workspace and the cursor positions (or the minute), so a tick evaluated twice launches
nothing twice; and a run evaluates from its workspace's own cursors and claims what it acts on, so a run too
many does nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg

from hubspot_pipeline.defs.workflows.jobs import workflow_triggers_job
from hubspot_pipeline.defs.workflows.resources import MODE
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import active_partition_keys, request_tags
from hubspot_pipeline.sync.store.workspaces import Workspace
from hubspot_pipeline.workflows.store.arrivals import NEW_EVENTS, with_due_executions, with_live_triggers
from hubspot_pipeline.workflows.store.events import last_positions

EVENTS_PER_TICK = 20_000
DUE_EVERY_SECONDS = 60


def _request(workspace: Workspace, key: str, trigger: str) -> dg.RunRequest:
    # Without the workspace-id tag while queued: dagster.yaml runs a workspace's contact and activity runs one
    # at a time by that tag, and a trigger run (seconds, touching neither's state) should not wait behind an
    # activity batch the same reply just launched. The run gets the tag when it starts (start_workspace_run).
    requested = request_tags(workspace, trigger, MODE)
    requested.pop(tags.WORKSPACE_ID)
    return dg.RunRequest(run_key=f"{key}:{workspace.slug}", partition_key=workspace.slug, tags=requested)


@dg.sensor(
    job=workflow_triggers_job,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Runs workflow triggers within seconds: for each workspace with live triggers and new email or "
        "engagement events (score changes, reply intents) since the sensor's cursors, launches its trigger run; "
        "once a minute, also for workspaces with executions due (retries, contacts now in HubSpot) and no "
        "trigger run queued or running."
    ),
)
def engagement_threshold_sensor(context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource):
    now = datetime.now(UTC)
    state = json.loads(context.cursor) if context.cursor else {}
    with sync_settings.engine().connect() as conn:
        if not state.get("positions"):  # events recorded before the sensor existed are not triggers' business
            return dg.SensorResult(cursor=json.dumps({"positions": last_positions(conn), "due_at": 0}))
        positions: dict[str, int] = dict(state["positions"])
        changed: dict[str, set] = {}
        for source, reader in NEW_EVENTS.items():
            per_workspace, up_to = reader(conn, positions.get(source, 0), EVENTS_PER_TICK)
            positions[source] = up_to
            for workspace_id, last in per_workspace.items():
                changed.setdefault(workspace_id, set()).add(f"{source}-{last}")
        due_check = now.timestamp() >= float(state.get("due_at", 0))
        due = set(with_due_executions(conn, now)) if due_check else set()
        wanted = set(changed) | due
        live = with_live_triggers(conn, among=wanted) if wanted else []
    # A workspace whose trigger run is queued or running is left to it: that run takes what is due.
    busy = active_partition_keys(context.instance, workflow_triggers_job.name) if due else set()
    requests = []
    for workspace in live:
        if workspace.id in changed:
            requests.append(
                _request(workspace, "events-" + "-".join(sorted(changed[workspace.id])), "events")
            )
        elif workspace.id in due and workspace.slug not in busy:
            requests.append(_request(workspace, f"due-{now:%Y%m%dT%H%M}", "retry"))
    cursor = json.dumps(
        {
            "positions": positions,
            "due_at": now.timestamp() + DUE_EVERY_SECONDS if due_check else state.get("due_at", 0),
        }
    )
    if not requests:
        return dg.SensorResult(cursor=cursor, skip_reason="no new events or due executions for live triggers")
    known = set(context.instance.get_dynamic_partitions(WORKSPACE))
    new = sorted({w.slug for w in live if w.slug not in known})
    return dg.SensorResult(
        run_requests=requests,
        cursor=cursor,
        dynamic_partitions_requests=[WORKSPACE_PARTITIONS.build_add_request(new)] if new else [],
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[engagement_threshold_sensor])
