"""Run tags of the project: what a run syncs, how, and what launched it. Set on every run request, and again
when a run starts (runs launched from the UI have none until then), so a tag never says more than is true."""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "hubspot_pipeline/"
WORKSPACE_ID = PREFIX + "workspace_id"
WORKSPACE_NAME = PREFIX + "workspace_name"
TRIGGER = PREFIX + "trigger"  # webhooks | outbox | api | schedule | backfill | ui | code
SYNC_KIND = PREFIX + "sync_kind"  # incremental | full (contacts); activities
DRY_RUN = PREFIX + "dry_run"  # "true" on dry runs only, so they stand out in the runs list
# Triggers of runs launched for particular changes (a webhook, a lead outbox row), not to look for any.
CHANGE_TRIGGERS = frozenset({"webhooks", "outbox"})
# Dagster's run queue launches higher priorities first (default 0). The run of someone's edit (a lead outbox
# row, a HubSpot change not made through the API) goes before queued full syncs, schedule and activity runs,
# so under load an edit does not wait for the whole backlog; at most one waits per workspace (contacts/jobs.py,
# waiting_syncs). Runs for the sync's own echoes do not: ahead of everything they held back first syncs.
PRIORITY = "dagster/priority"
EDIT_PRIORITY = {PRIORITY: "1"}


def trigger_of(tags: Mapping[str, str]) -> str:
    """What launched a run, from the tags Dagster and our sensors gave it."""
    if TRIGGER in tags:
        return tags[TRIGGER]
    if "dagster/backfill" in tags:
        return "backfill"
    if "dagster/schedule_name" in tags:
        return "schedule"
    if "dagster/sensor_name" in tags:
        return "sensor"
    if tags.get("dagster/from_ui") == "true":
        return "ui"
    return "code"  # execute_in_process, tests, scripts


def mode_tags(*, full: bool, dry_run: bool) -> dict[str, str]:
    return {SYNC_KIND: "full" if full else "incremental", **({DRY_RUN: "true"} if dry_run else {})}
