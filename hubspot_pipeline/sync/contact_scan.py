"""The HubSpot side of a full resync: every contact of the portal, read through the list and the search
budgets at once (`client.read_all`), each compared as it arrives with its pair's agreed values, so that the
contacts still in sync (most of a million) never reach the plan.

A contact is dropped when it is exactly what the plan assumes of a contact it did not read: linked to one pair
whose status is `synced` and not ended, its pushed columns hashing to the pair's `sync_hash` (the same 64-bit
hash the lead side compares), its pull-only columns equal to the agreed ones, and no merge in its
`hs_merged_object_ids`. Everything else (changed on HubSpot, never linked, failed, merged) goes to the plan.

What the read could not see (created after search passed the top, not yet in the search index, edited while
reading) is modified after `started_ms`; the run's incremental search starts at `started_ms - lag` at the
latest, so it reads those, and nothing older twice.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline.hubspot.full_read import FullReadStats
from hubspot_pipeline.sync.core.hashing import hash_values
from hubspot_pipeline.sync.core.mapping import MappingSet, canonical_contacts, contact_records_frame
from hubspot_pipeline.sync.core.markers import TOMBSTONE
from hubspot_pipeline.sync.job import SyncJob

log = logging.getLogger(__name__)

MERGED_IDS = "hs_merged_object_ids"
COMPARE_CHUNK = 20_000  # contacts compared at once at most: pandas' per-call cost stays small, memory too
IDLE_CHUNK = 5_000  # compared at least at once when no page is waiting (below it, per-call costs dominate)


@dataclass
class PairHashes:
    """The linked pairs' agreed hashes, by HubSpot id (sorted), as numpy arrays: 17 bytes per pair."""

    ids: np.ndarray  # int64, ascending
    hashes: np.ndarray  # int64: `('x' || sync_hash)::bit(64)::bigint`
    quiet: np.ndarray  # bool: synced, not ended, the only pair of its contact
    pulled: dict[str, np.ndarray] = field(default_factory=dict)  # agreed values of pull-only columns

    def unchanged(self, contact_ids: np.ndarray, hashes: np.ndarray, canonical: pd.DataFrame) -> np.ndarray:
        """Which contacts equal their pair's agreed values (bool per contact)."""
        if not len(self.ids):
            return np.zeros(len(contact_ids), dtype=bool)
        position = np.minimum(np.searchsorted(self.ids, contact_ids), len(self.ids) - 1)
        same = (self.ids[position] == contact_ids) & self.quiet[position] & (self.hashes[position] == hashes)
        for column, agreed in self.pulled.items():
            same &= canonical[column].to_numpy(dtype=object) == agreed[position]
        return np.asarray(same, dtype=bool)


def pulled_only(mapping_set: MappingSet) -> list[str]:
    pushed = set(mapping_set.pushed_columns)
    return [c for c in mapping_set.columns if c not in pushed]


def read_pair_hashes(conn: sa.Connection, workspace_id: uuid.UUID, mapping_set: MappingSet) -> PairHashes:
    """Every linked contact pair of the workspace, streamed by COPY (a million pairs in about a second),
    parsed into integers as it is read and sorted by HubSpot id here rather than by PostgreSQL."""
    extra = pulled_only(mapping_set)
    picks = "".join(f", coalesce(agreed ->> '{c.replace(chr(39), chr(39) * 2)}', '')" for c in extra)
    select = (
        "SELECT hubspot_id::bigint, coalesce(('x' || sync_hash)::bit(64)::bigint, 0), "
        f"(status = 'synced' AND NOT coalesce(agreed ? '{TOMBSTONE}', false)){picks} "
        f"FROM hubspot_sync_status WHERE workspace_id = '{uuid.UUID(str(workspace_id))}' "
        "AND entity_type = 'contact' AND hubspot_id ~ '^[0-9]{1,18}$'"
    )
    raw: Any = conn.connection.dbapi_connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    names = ["id", "hash", "quiet", *extra]
    types = {"id": np.int64, "hash": np.int64} | {n: object for n in names[2:]}
    if not buffer.getbuffer().nbytes:
        frame = pd.DataFrame({n: pd.Series([], dtype=t) for n, t in types.items()})
    else:
        frame = pd.read_csv(buffer, header=None, names=names, dtype=types, keep_default_na=False)
    order = np.argsort(frame["id"].to_numpy(), kind="stable")
    ids = frame["id"].to_numpy()[order]
    quiet = frame["quiet"].eq("t").to_numpy(dtype=bool)[order]
    twice = np.zeros(len(ids), dtype=bool)  # a contact two pairs point at: the plan decides (a merge)
    if len(ids) > 1:
        same = ids[1:] == ids[:-1]
        twice[1:] |= same
        twice[:-1] |= same
    return PairHashes(
        ids,
        frame["hash"].to_numpy()[order],
        quiet & ~twice,
        {c: frame[c].to_numpy(dtype=object)[order] for c in extra},
    )


@dataclass
class ContactScan:
    records: dict[str, dict[str, Any]]  # the contacts the plan needs, by id
    read: int  # contacts read
    unchanged: int
    started_ms: int
    stats: FullReadStats  # stats.seconds: the read's wall time, first call to last page
    compare_seconds: float  # CPU seconds spent comparing (nearly all of it while the walks waited)
    pairs_seconds: float = 0.0  # wall seconds reading the pairs' hashes, beside the first calls
    tail_seconds: float = (
        0.0  # wall seconds comparing after the last page: the scan's own time on top of the read
    )


class ContactScanRun:
    """A contact scan under way in a thread of its own (`start_scan`): a full resync starts it before its
    lead side reads every lead by digest, so PostgreSQL's scan and HubSpot's read overlap. `result()` waits for
    it; `cancel()` stops its walks (a run that failed before it wanted the contacts)."""

    def __init__(self, job: SyncJob, properties: list[str]) -> None:
        self._cancelled = threading.Event()
        self._outcome: ContactScan | BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(job, properties), name="contact-scan", daemon=True
        )
        self._thread.start()

    def _run(self, job: SyncJob, properties: list[str]) -> None:
        try:
            self._outcome = scan_contacts(job, properties, self._cancelled)
        except BaseException as error:  # raised by result(), in the caller's thread
            self._outcome = error

    def result(self) -> ContactScan:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        if self._outcome is None or self._cancelled.is_set():
            raise RuntimeError("the contact scan was cancelled; start a new one")
        return self._outcome

    def cancel(self) -> None:
        self._cancelled.set()
        self._thread.join()


def start_scan(job: SyncJob, properties: list[str]) -> ContactScanRun:
    if job.client is None:
        raise ValueError("reading HubSpot needs a client; pass one to prepare()")
    return ContactScanRun(job, properties)


def scan_contacts(
    job: SyncJob,
    properties: list[str],
    cancelled: threading.Event | None = None,
    *,
    compare_chunk: int = COMPARE_CHUNK,
    idle_chunk: int = IDLE_CHUNK,
) -> ContactScan:
    """Every contact read (`client.read_all`) and compared with its pair as it arrives: `compare_chunk`
    contacts at once, or, when no page is waiting, what has arrived (at least `idle_chunk`), so that little
    is left to compare once the last page is in. The pairs' hashes are read meanwhile."""
    if job.client is None:
        raise ValueError("reading HubSpot needs a client; pass one to prepare()")
    kept: dict[str, dict[str, Any]] = {}
    read_count = 0
    unchanged = 0
    compare = 0.0
    buffer: list[dict[str, Any]] = []
    pairs_read = _PairsRead(job)

    def flush() -> None:
        nonlocal unchanged, compare, buffer, read_count
        if not buffer:
            return
        pairs = pairs_read.result()
        started = time.thread_time()  # CPU time: the walks' threads wait on HubSpot meanwhile
        ids = np.fromiter((int(r["id"]) for r in buffer), dtype=np.int64, count=len(buffer))
        frame = contact_records_frame(buffer, job.mapping_set.columns)
        canonical = canonical_contacts(frame, job.mapping_set)
        hashes = hash_values(canonical, job.mapping_set.pushed_columns).view(np.int64)
        same = pairs.unchanged(ids, hashes, canonical)
        merged = np.fromiter(
            (bool((r.get("properties") or {}).get(MERGED_IDS)) for r in buffer), dtype=bool, count=len(buffer)
        )
        same &= ~merged
        unchanged += int(same.sum())
        kept.update({str(r["id"]): r for r, quiet in zip(buffer, same, strict=True) if not quiet})
        read_count += len(buffer)
        buffer = []
        compare += time.thread_time() - started

    read = job.client.read_all("contacts", properties)
    pages = iter(read)
    try:
        for page in pages:
            if cancelled is not None and cancelled.is_set():
                break
            buffer.extend(page)
            if len(buffer) >= compare_chunk or (len(buffer) >= idle_chunk and not read.waiting()):
                flush()
    finally:
        pages.close()  # stops the walks when the loop was left early
    tail_started = time.perf_counter()
    flush()
    tail = time.perf_counter() - tail_started
    log.info(
        "full read of %d contacts in %.1fs (list %d calls, search %d calls); %d unchanged, %d to plan",
        read_count,
        read.stats.seconds,
        read.stats.list_calls,
        read.stats.search_calls,
        unchanged,
        len(kept),
    )
    return ContactScan(
        kept,
        read_count,
        unchanged,
        read.started_ms,
        read.stats,
        round(compare, 3),
        round(pairs_read.seconds, 3),
        round(tail, 3),
    )


class _PairsRead:
    """The pairs' hashes read in a thread of their own, while the read's first calls are under way."""

    def __init__(self, job: SyncJob) -> None:
        self.seconds = 0.0
        self._outcome: PairHashes | BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(job,), name="pair-hashes", daemon=True)
        self._thread.start()

    def _run(self, job: SyncJob) -> None:
        started = time.perf_counter()
        try:
            with job.engine.connect() as conn:
                self._outcome = read_pair_hashes(conn, job.workspace_id, job.mapping_set)
        except BaseException as error:
            self._outcome = error
        self.seconds = time.perf_counter() - started

    def result(self) -> PairHashes:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome
