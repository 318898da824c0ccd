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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.activities.core.events import ActivitySettings
from hubspot_pipeline.activities.core.plan import ActivityPlan, Engagement, TimelineItem, plan_events
from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES
from hubspot_pipeline.activities.push import ERROR_SAMPLES, Batches, Pusher, PushOutcome, record_plan
from hubspot_pipeline.activities.recovery import recover_in_flight
from hubspot_pipeline.activities.store.events import Window, pending_events
from hubspot_pipeline.activities.store.lock import workspace_activity_lock
from hubspot_pipeline.activities.store.retry import failed_event_ids, forget_orphans, retry_event_ids
from hubspot_pipeline.activities.store.settings import activity_settings
from hubspot_pipeline.activities.store.templates import forget_templates
from hubspot_pipeline.activities.templates import DeveloperCredentials, ensure_templates
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.batch import BATCH_SIZE

# Events read and planned at a time, while the previous page's batches are sent: small pages keep the reads
# ahead of HubSpot's budget (a page is ~20 batches, two seconds at 10 calls/s) and bound memory at any backlog.
PAGE_EVENTS = 2_000
FIRST_PAGE_EVENTS = 500  # the first calls start early
SETTLED_SECONDS = 60.0  # in-flight rows younger than this are left to a later batch (recovery.py)
# report counts of the objects written
OBJECT_COUNTS = {
    "email": "emails",
    "note": "notes",
    "timeline_event": "timeline_events",
    "skipped": "skipped",
}


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

    def add_plan(self, recorded: PushOutcome, plan_counts: dict[str, int]) -> None:
        self.counts["waiting_for_contact"] += plan_counts["waiting_for_contact"]
        self.counts["invalid"] += plan_counts["invalid"]
        self.add_pushed(recorded)

    def add_pushed(self, pushed: PushOutcome) -> None:
        self.counts["logged"] += sum(pushed.logged.values())
        self.counts["failed"] += len(pushed.failed)
        self.counts["unknown_outcome"] += pushed.unknown
        self.counts["timeline_repeats"] += pushed.repeats
        self.counts["template_missing"] += int(pushed.template_missing)
        for name, counted in OBJECT_COUNTS.items():
            self.counts[counted] += pushed.objects[name]
        self.logged_by_type.update(pushed.logged)
        room = ERROR_SAMPLES - len(self.error_samples)
        self.error_samples.extend(sorted(set(pushed.failed.values()))[: max(room, 0)])


class _Buffer:
    """Planned writes waiting for a full batch: pages end anywhere, batches of 100 do not (a batch cut short
    at each page's end would be a call more per page and type)."""

    def __init__(self) -> None:
        self.engagements: dict[str, list[Engagement]] = {"email": [], "note": []}
        self.timeline: list[TimelineItem] = []

    def add(self, plan: ActivityPlan) -> None:
        for item in plan.engagements:
            self.engagements[item.object_type].append(item)
        self.timeline.extend(plan.timeline)

    def take(self, *, everything: bool) -> Batches:
        batches = Batches()
        for items in self.engagements.values():
            batches.engagements += _cut(items, everything)
        batches.timeline = _cut(self.timeline, everything)
        return batches


def _cut(items: list[Any], everything: bool) -> list[list[Any]]:
    """Whole batches taken off the front of `items` (and the rest too when `everything`)."""
    count = len(items) if everything else len(items) - len(items) % BATCH_SIZE
    taken = [items[start : start + BATCH_SIZE] for start in range(0, count, BATCH_SIZE)]
    del items[:count]
    return taken


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
            failed_before = failed_event_ids(conn, workspace_id)
        pages = _Pages(
            engine,
            workspace_id,
            settings,
            sorted(types),
            types & set(TIMELINE_TYPES) if report.timeline_supported else set(),
            developer or DeveloperCredentials.from_settings(client.base_url),
            window=window,
            extra=[*recovery.absent, *retries],
            timeline_supported=report.timeline_supported,
        )
        buffer = _Buffer()
        # The next page is read and planned while this one is pushed: HubSpot's budget never waits on SQL.
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="activity-read") as reader,
            Pusher(engine, client, workspace_id, run_id, failed_before) as pusher,
        ):
            upcoming: Future[_Page] | None = reader.submit(pages.next, None, FIRST_PAGE_EVENTS)
            while upcoming is not None:
                page = upcoming.result()
                upcoming = reader.submit(pages.next, page.after, page_events) if page.after else None
                report.add_plan(record_plan(engine, workspace_id, page.plan, run_id), page.plan.counts())
                buffer.add(page.plan)
                pusher.send(buffer.take(everything=upcoming is None))
                if pusher.outcome.template_missing:
                    pages.forget_templates()
            report.add_pushed(pusher.finish())
        if report.counts["template_missing"]:
            pages.forget_templates()
    report.seconds = round(time.perf_counter() - started, 3)
    report.api_calls = client.metrics.total_calls() - calls
    return report


@dataclass
class _Page:
    plan: ActivityPlan
    after: tuple[datetime, str] | None  # where the next page starts; None: this was the last


class _Pages:
    """Reads and plans pages of pending events; ensures the event templates when a page first needs them."""

    def __init__(
        self,
        engine: sa.Engine,
        workspace_id: uuid.UUID,
        settings: ActivitySettings,
        types: list[str],
        timeline_types: set[str],
        developer: DeveloperCredentials,
        *,
        window: Window | None,
        extra: list[str],
        timeline_supported: bool,
    ) -> None:
        self.engine, self.workspace_id, self.settings = engine, workspace_id, settings
        self.timeline_types, self.developer = timeline_types, developer
        self.window, self.extra, self.timeline_supported = window, extra, timeline_supported
        self.types = types
        self.template_ids: dict[str, str] = {}
        self._forgotten = False

    def next(self, after: tuple[datetime, str] | None, limit: int) -> _Page:
        with self.engine.connect() as conn:
            events, following = pending_events(
                conn,
                self.workspace_id,
                self.types,
                window=self.window,
                extra_ids=self.extra,
                after=after,
                limit=limit,
            )
        # Templates are ensured when a page first holds an event that needs one, all types at once.
        if not self.template_ids and any(
            e.contact_id and e.event_type in self.timeline_types for e in events
        ):
            self.template_ids = ensure_templates(self.engine, self.developer, self.timeline_types)
        plan = plan_events(
            events, self.settings, timeline_supported=self.timeline_supported, template_ids=self.template_ids
        )
        return _Page(plan, following)

    def forget_templates(self) -> None:
        """A stored template is gone from HubSpot: check and remake them (once a run) for the next page."""
        if self._forgotten:
            return
        self._forgotten = True
        with self.engine.begin() as conn:
            forget_templates(conn, self.developer.app_id)
        self.template_ids = {}
