"""The push and the record stages of a sync run, overlapped: the plan's contact writes go out as one push
call each (core/pages.py), `client.max_concurrency` at a time, and each page of pairs whose only write was
their contact's is recorded (writes.record_page) while later pages are still being pushed; the rest of the
plan and the cursors are recorded at the end (writes.record_sync). The push is paced by HubSpot's rate
limit, so the recording it hides is what a run saves.

Crash safety is the sequential engine's: a page is recorded only after every write of its pairs answered,
and the cursors move last, so a run killed anywhere leaves HubSpot ahead of PostgreSQL, never behind. A push
call that raises (auth, the daily cap, a killed process) stops the run: pages recorded before it stay, calls
not yet started are not made, the next run pushes the rest again (idempotent: updates by id, upserts by
email).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import pandas as pd

from hubspot_pipeline.hubspot.batch import BATCH_SIZE
from hubspot_pipeline.sync.core.pages import only_pairs, paged_ids, push_units
from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.push import PushOutcome, push_contacts
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads
from hubspot_pipeline.sync.writes import PagesRecorded, SyncReport, record_page, record_sync


@dataclass
class Written:
    pushed: PushOutcome  # every pair's
    report: SyncReport
    push_seconds: float  # until the last push call answered; the rest of the stage is recording


def push_and_record(job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, plan: Plan) -> Written:
    """Push the plan's contact writes and record the run, pages of pushed pairs recorded as they complete."""
    started = time.perf_counter()
    paged = paged_ids(plan)
    units = push_units(plan.contact_writes, min(BATCH_SIZE, job.page_size))
    per_page = max(1, job.page_size // min(BATCH_SIZE, job.page_size))
    pushed, pages = PushOutcome({}, {}), PagesRecorded()
    push_seconds = 0.0
    if units and job.client is not None:
        workers = max(1, job.client.max_concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync-push") as pool:
            push = _stopping_at_the_first_failure(
                lambda unit: push_contacts(job, replace(plan, contact_writes=unit))
            )
            futures = [pool.submit(push, unit) for unit in units]
            try:
                waiting: list[str] = []  # paged pairs pushed, not yet recorded
                for n, (unit, future) in enumerate(zip(units, futures, strict=True), 1):
                    pushed.merge(future.result())
                    waiting += [i for i in unit["lead_id"].astype(str) if i in paged]
                    last = n == len(units)
                    if last:
                        push_seconds = time.perf_counter() - started
                    if waiting and (last or n % per_page == 0):
                        page = only_pairs(plan, waiting)
                        pages.add(waiting, record_page(job, changed, contacts, page, pushed.only(waiting)))
                        waiting = []
            except BaseException:
                _cancel(futures)
                raise
    report = record_sync(job, changed, contacts, plan, pushed, pages)
    return Written(pushed, report, round(push_seconds, 3))


class _Stopped(Exception):
    """A push call not made: an earlier one failed (that one's error is what the run raises)."""


def _stopping_at_the_first_failure(
    push: Callable[[pd.DataFrame], PushOutcome],
) -> Callable[[pd.DataFrame], PushOutcome]:
    # Set by the worker whose call failed, before the run's thread hears of it: calls queued behind it (the
    # pool starts them in order) are not made, as if the process had died there.
    failed = threading.Event()

    def pushing(unit: pd.DataFrame) -> PushOutcome:
        if failed.is_set():
            raise _Stopped
        try:
            return push(unit)
        except BaseException:
            failed.set()
            raise

    return pushing


def _cancel(futures: list[Future[PushOutcome]]) -> None:
    """Calls not started are not made; those in flight finish (their answers are not recorded)."""
    for future in futures:
        future.cancel()
