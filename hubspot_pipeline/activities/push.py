"""Writing planned events to HubSpot and recording each batch as it completes, batches of up to 100 running
concurrently (within the portal's shared budget, which the client's limiter keeps).

An engagement batch: its in-flight rows are committed first (events that already have a row are not sent),
then the batch is created, then each row is completed: logged with the object created, released and sent to
the retry index when HubSpot refused it, or left in flight when the outcome is unknown (5xx, a lost
connection: HubSpot may have written it) for recovery to settle. A timeline batch needs no in-flight rows: its
ids make a repeat harmless, so it is logged once HubSpot answers, a repeat (409 or overwrite) included.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, deque
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import sqlalchemy as sa

from hubspot_pipeline.activities.core.plan import ActivityPlan, Engagement, TimelineItem
from hubspot_pipeline.activities.store.log import (
    IN_FLIGHT,
    LOGGED,
    SKIPPED,
    LogRow,
    claim_in_flight,
    record_logged,
    release_in_flight,
)
from hubspot_pipeline.activities.store.retry import record_failures, record_successes
from hubspot_pipeline.hubspot import HubSpotAuthError, HubSpotClient, HubSpotRateLimitError
from hubspot_pipeline.hubspot.activities import EMAIL_TO_CONTACT, NOTE_TO_CONTACT

OBJECTS = {"email": ("emails", EMAIL_TO_CONTACT), "note": ("notes", NOTE_TO_CONTACT)}
# A batch's thread spends about as long in PostgreSQL (its in-flight rows, its log rows) as waiting on HubSpot,
# so it takes more threads than calls in flight to keep a portal's budget busy; 12 stays within the database
# pool (15) with the reader, the lock and the caller.
PUSH_THREADS = 12
ERROR_SAMPLES = 5


@dataclass
class PushOutcome:
    logged: Counter[str] = field(default_factory=Counter)  # by email event type
    objects: Counter[str] = field(default_factory=Counter)  # email | note | timeline_event | skipped
    failed: dict[str, str] = field(default_factory=dict)  # event id -> why
    unknown: int = 0  # creates whose outcome is unknown: in flight until recovery settles them
    repeats: int = 0  # timeline events HubSpot already had
    template_missing: bool = False  # a stored template id is gone from HubSpot
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def merge(self, other: PushOutcome) -> None:
        with self._lock:
            self.logged.update(other.logged)
            self.objects.update(other.objects)
            self.failed.update(other.failed)
            self.unknown += other.unknown
            self.repeats += other.repeats
            self.template_missing = self.template_missing or other.template_missing


def _row(item: Engagement, status: str, object_id: str | None = None) -> LogRow:
    event = item.event
    return LogRow(
        event.id,
        event.lead_id,
        event.event_type,
        event.occurred_at,
        status,
        item.object_type,
        object_id,
        item.contact_id,
        {"match": item.match_key},
    )


def _engagement_batch(
    engine: sa.Engine,
    client: HubSpotClient,
    workspace_id: uuid.UUID,
    batch: Sequence[Engagement],
    run_id: str,
    failed_before: Collection[str],
) -> PushOutcome:
    outcome = PushOutcome()
    with engine.begin() as conn:
        claimed = claim_in_flight(conn, workspace_id, [_row(item, IN_FLIGHT) for item in batch], run_id)
    items = [item for item in batch if item.event.id in claimed]
    if not items:
        return outcome
    plural, association = OBJECTS[items[0].object_type]
    try:
        result = client.create_engagements(
            plural,
            [(item.event.id, item.properties, item.contact_id) for item in items],
            association_type=association,
        )
    except (HubSpotAuthError, HubSpotRateLimitError):
        # Refused before anything was written (credentials, the daily cap): the events are pending again.
        with engine.begin() as conn:
            release_in_flight(conn, [item.event.id for item in items])
        raise
    created = {key: str(obj["id"]) for key, obj in result.by_key.items()}
    refused = {e.key: e.message for e in result.errors if not e.retryable and e.key in claimed}
    logged = [_row(item, LOGGED, created[item.event.id]) for item in items if item.event.id in created]
    with engine.begin() as conn:
        record_logged(conn, workspace_id, logged, run_id)
        record_successes(
            conn, workspace_id, {r.event_id: r.object_id for r in logged if r.event_id in failed_before}
        )
        release_in_flight(conn, list(refused))
        record_failures(conn, workspace_id, refused)
    for row in logged:
        outcome.logged[row.activity_type] += 1
        outcome.objects[items[0].object_type] += 1
    outcome.failed.update(refused)
    outcome.unknown = len(items) - len(logged) - len(refused)
    return outcome


def _is_missing_template(message: str) -> bool:
    return "template" in message.lower() and ("does not exist" in message or "not found" in message.lower())


def _timeline_batch(
    engine: sa.Engine,
    client: HubSpotClient,
    workspace_id: uuid.UUID,
    batch: Sequence[TimelineItem],
    run_id: str,
    failed_before: Collection[str],
) -> PushOutcome:
    outcome = PushOutcome()
    result = client.create_timeline_events([item.payload for item in batch])
    by_id = {item.payload["id"]: item for item in batch}
    done = set(result.created) | set(result.existing)
    logged = [
        LogRow(
            item.event.id,
            item.event.lead_id,
            item.event.event_type,
            item.event.occurred_at,
            LOGGED,
            "timeline_event",
            item.payload["id"],
            item.event.contact_id,
            {"template_id": item.payload["eventTemplateId"]},
        )
        for event_id, item in by_id.items()
        if event_id in done
    ]
    failed = {by_id[e.key].event.id: e.message for e in result.errors if e.key in by_id and e.key not in done}
    # Rows HubSpot named no error for and did not return (unreadable answers): retried on the next run.
    for event_id, item in by_id.items():
        if event_id not in done and item.event.id not in failed:
            failed[item.event.id] = "HubSpot did not confirm this timeline event; it is posted again next run"
    with engine.begin() as conn:
        record_logged(conn, workspace_id, logged, run_id)
        record_successes(
            conn, workspace_id, {r.event_id: r.object_id for r in logged if r.event_id in failed_before}
        )
        record_failures(conn, workspace_id, failed)
    for row in logged:
        outcome.logged[row.activity_type] += 1
    outcome.objects["timeline_event"] += len(logged)
    outcome.repeats = len(set(result.existing))
    outcome.failed = failed
    outcome.template_missing = any(_is_missing_template(message) for message in failed.values())
    return outcome


def record_plan(engine: sa.Engine, workspace_id: uuid.UUID, plan: ActivityPlan, run_id: str) -> PushOutcome:
    """What a plan settles without HubSpot: skipped events logged as such, unusable ones to the retry index."""
    outcome = PushOutcome()
    skipped = [
        LogRow(e.id, e.lead_id, e.event_type, e.occurred_at, SKIPPED, contact_id=e.contact_id)
        for e in plan.skipped
    ]
    invalid = {event.id: problem for event, problem in plan.invalid}
    with engine.begin() as conn:
        record_logged(conn, workspace_id, skipped, run_id)
        record_failures(conn, workspace_id, invalid)
    outcome.objects["skipped"] += len(skipped)
    outcome.failed.update(invalid)
    return outcome


@dataclass
class Batches:
    """HubSpot batches to send: engagements of one object type each, and timeline events."""

    engagements: list[list[Engagement]] = field(default_factory=list)
    timeline: list[list[TimelineItem]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.engagements) + len(self.timeline)


class Pusher:
    """Sends batches on a pool of PUSH_THREADS threads that lives for the whole run, so batches of the
    next page start while the last ones of this page finish (no barrier at a page's end). At most
    OUTSTANDING_PER_THREAD batches per thread wait, which bounds memory; the first failure stops the run
    once every batch sent has recorded itself."""

    OUTSTANDING_PER_THREAD = 4

    def __init__(
        self,
        engine: sa.Engine,
        client: HubSpotClient,
        workspace_id: uuid.UUID,
        run_id: str,
        failed_before: Collection[str],
        *,
        threads: int = PUSH_THREADS,
    ) -> None:
        self.engine, self.client, self.workspace_id, self.run_id = engine, client, workspace_id, run_id
        self.failed_before = failed_before
        self.outcome = PushOutcome()
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="activity-push")
        self._waiting: deque[Future[PushOutcome]] = deque()
        self._error: BaseException | None = None

    def __enter__(self) -> Pusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def send(self, batches: Batches) -> None:
        if self._error is not None:
            raise self._error
        common = (self.engine, self.client, self.workspace_id)
        for batch in batches.engagements:
            self._waiting.append(
                self._pool.submit(_engagement_batch, *common, batch, self.run_id, self.failed_before)
            )
        for timeline in batches.timeline:
            self._waiting.append(
                self._pool.submit(_timeline_batch, *common, timeline, self.run_id, self.failed_before)
            )
        self._collect(self._threads * self.OUTSTANDING_PER_THREAD)

    def finish(self) -> PushOutcome:
        self._collect(0)
        if self._error is not None:
            raise self._error
        return self.outcome

    def _collect(self, keep: int) -> None:
        while self._waiting and (len(self._waiting) > keep or self._waiting[0].done()):
            try:
                self.outcome.merge(self._waiting.popleft().result())
            except BaseException as error:  # every batch records itself; the first failure is raised after
                self._error = self._error or error
