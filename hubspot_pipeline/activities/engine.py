"""One activity batch of a workspace: its pending email events in a window (a UTC day for the Dagster
asset; any range, or everything, for the CLI and the demo) logged to HubSpot, each exactly once.

    report = log_activities(engine, client, workspace_id, window=(day_start, day_end), run_id=run_id)

Under the workspace's activity lock: the in-flight rows earlier batches left are settled first (recovery.py);
then the event templates needed are ensured (templates.py); then the pending events are read a page at a
time (the window's, the retry index's due rows, the in-flight rows found never created), planned
(core/plan.py) and pushed (push.py), each HubSpot batch recorded as it completes. A workspace whose sync or
`sync_activities` is off sends nothing.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.activities.core.plan import plan_events
from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES
from hubspot_pipeline.activities.push import ERROR_SAMPLES, PushOutcome, push_plan
from hubspot_pipeline.activities.recovery import recover_in_flight
from hubspot_pipeline.activities.store.events import Window, pending_events
from hubspot_pipeline.activities.store.lock import workspace_activity_lock
from hubspot_pipeline.activities.store.retry import forget_orphans, retry_event_ids
from hubspot_pipeline.activities.store.settings import activity_settings
from hubspot_pipeline.activities.store.templates import forget_templates
from hubspot_pipeline.activities.templates import DeveloperCredentials, ensure_templates
from hubspot_pipeline.hubspot import HubSpotClient

PAGE_EVENTS = 5_000  # events read, planned and pushed at a time: bounds memory at any backlog
SETTLED_SECONDS = 60.0
OBJECT_COUNTS = {
    "email": "emails",
    "note": "notes",
    "timeline_event": "timeline_events",
    "skipped": "skipped",
}  # in-flight rows younger than this are left to a later batch (recovery.py)


@dataclass
class ActivityReport:
    enabled: bool = True
    timeline_supported: bool = True
    counts: Counter[str] = field(default_factory=Counter)
    logged_by_type: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    api_calls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "timeline_supported": self.timeline_supported,
            "counts": dict(self.counts),
            "logged_by_type": dict(self.logged_by_type),
            "error_samples": self.error_samples,
            "seconds": self.seconds,
            "api_calls": self.api_calls,
        }

    def add(self, pushed: PushOutcome, plan_counts: dict[str, int]) -> None:
        self.counts["waiting_for_contact"] += plan_counts["waiting_for_contact"]
        self.counts["invalid"] += plan_counts["invalid"]
        self.counts["logged"] += sum(pushed.logged.values())
        self.counts["failed"] += len(pushed.failed)
        self.counts["unknown_outcome"] += pushed.unknown
        self.counts["timeline_repeats"] += pushed.repeats
        for name, counted in OBJECT_COUNTS.items():
            self.counts[counted] += pushed.objects[name]
        self.logged_by_type.update(pushed.logged)
        room = ERROR_SAMPLES - len(self.error_samples)
        self.error_samples.extend(sorted(set(pushed.failed.values()))[: max(room, 0)])


def log_activities(
    engine: sa.Engine,
    client: HubSpotClient,
    workspace_id: uuid.UUID,
    *,
    window: Window | None = None,
    event_types: Collection[str] | None = None,
    run_id: str | None = None,
    developer: DeveloperCredentials | None = None,
    settled_seconds: float = SETTLED_SECONDS,
    page_events: int = PAGE_EVENTS,
) -> ActivityReport:
    """Log the workspace's pending events of `window` ([start, end); None: all) and `event_types` (None: the
    workspace's choice; otherwise only those of them it chose)."""
    started, calls = time.perf_counter(), client.metrics.total_calls()
    run_id = run_id or f"batch-{uuid.uuid4()}"
    report = ActivityReport()
    with engine.connect() as conn:
        settings = activity_settings(conn, workspace_id)
    types = set(settings.event_types) & (
        set(event_types) if event_types is not None else set(settings.event_types)
    )
    if not settings.enabled or not types:
        report.enabled = settings.enabled
        return report
    report.timeline_supported = not client.auth.private_app
    with workspace_activity_lock(engine, workspace_id):
        recovery = recover_in_flight(engine, client, workspace_id, run_id, settled_seconds=settled_seconds)
        report.counts["recovered_found"] = len(recovery.found)
        report.counts["recovered_absent"] = len(recovery.absent)
        with engine.begin() as conn:
            forget_orphans(conn, workspace_id)
            retries = retry_event_ids(conn, workspace_id)
        timeline_types = types & set(TIMELINE_TYPES) if report.timeline_supported else set()
        developer = developer or DeveloperCredentials.from_settings(client.base_url)
        template_ids: dict[str, str] = {}
        extra = [*recovery.absent, *retries]
        after = None
        while True:
            with engine.connect() as conn:
                events = pending_events(
                    conn, workspace_id, types, window=window, extra_ids=extra, after=after, limit=page_events
                )
            if not events:
                break
            after = (events[-1].occurred_at, events[-1].id)
            # Templates are ensured when a page first holds an event that needs one, all types at once.
            if not template_ids and any(e.contact_id and e.event_type in timeline_types for e in events):
                template_ids = ensure_templates(engine, developer, timeline_types)
            plan = plan_events(
                events, settings, timeline_supported=report.timeline_supported, template_ids=template_ids
            )
            pushed = push_plan(engine, client, workspace_id, plan, run_id)
            report.add(pushed, plan.counts())
            if pushed.template_missing:
                with engine.begin() as conn:
                    forget_templates(conn, developer.app_id)  # checked and remade by the next page or run
                template_ids = {}
            if len(events) < page_events:
                break
    report.seconds = round(time.perf_counter() - started, 3)
    report.api_calls = client.metrics.total_calls() - calls
    return report
