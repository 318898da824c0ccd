"""Every live record of an object type, read through HubSpot's two budgets at once (reference §2.1, §3.3,
§3.6, §9.1).

    read = client.read_all("contacts", ["email", "firstname"])
    for page in read:                      # lists of records, each live record exactly once
        handle(page)
    read.started_ms, read.stats            # HubSpot's clock when the read began; calls and records per walk

Why two walks: a list page (100 records) spends the general budget (a free portal's 100 calls per 10 s:
1,000 records/s) and a search page (200) spends the separate search budget (5 per second: another
1,000 records/s). One walk alone reads at half the speed the portal allows. So the list walks the id space up
from the bottom (its cursor is the last id read: "the paging cursor token of the last successfully read
resource", HubSpot's OpenAPI) while search walks it down from the top: `hs_object_id GT <list's highest id>
AND hs_object_id LT <search's lowest id>`, sorted by `hs_object_id` DESCENDING, always from `after` 0 (keyset
paging, the documented way past the 10,000-result cap, §3.6). They meet wherever the two budgets take them.

Exactly once: a record's id never changes, so ids partition the records whatever edits happen during the read.
Under one lock the list keeps only ids below the lowest id search has read, and search keeps only ids above the
highest id the list has read; the walk that crosses the other stops, and the other stops at the boundary. At
most one page of each walk overlaps the other's and is dropped (counted in `stats`).

What this read cannot see, and who must: records created after search passed the top (new ids are higher),
records the search index did not show yet (index lag), and the edits made while reading. The caller's
incremental search from `started_ms - lag` covers all three (the sync does exactly that). Records archived
while reading are the archived listing's business.

Guard: the list's id order follows from HubSpot's cursor, not from a documented sort. If a list page ever comes
back out of order, the list stops trusting the boundary, search stops, and the list reads to its end, skipping
only what search returned: correct, at the one-budget speed.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubspot_pipeline.hubspot.client import HubSpotClient

LIST_PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 200
QUEUED_PAGES = 64  # pages read but not yet consumed, per read: bounds memory when the consumer is slower


@dataclass
class FullReadStats:
    list_calls: int = 0
    search_calls: int = 0
    list_records: int = 0  # kept from the list walk
    search_records: int = 0  # kept from the search walk
    overlap_dropped: int = 0  # read by one walk in the other's part, not returned again
    ordered: bool = True  # False: a list page came back out of id order (see the module docstring)
    seconds: float = 0.0


@dataclass
class _Boundary:
    """Where the walks stand: ids <= list_high were read by the list, ids >= search_low by search."""

    list_high: int = 0
    search_low: int | None = None
    list_done: bool = False
    search_done: bool = False
    search_ids: set[int] = field(default_factory=set)  # only needed when the list turns out unordered


_END = object()


class FullRead:
    """One full read (see the module docstring). Iterate it once."""

    def __init__(
        self,
        client: HubSpotClient,
        object_type: str,
        properties: Sequence[str],
        *,
        list_page_size: int = LIST_PAGE_SIZE,
        search_page_size: int = SEARCH_PAGE_SIZE,
    ) -> None:
        self.client = client
        self.object_type = object_type
        self.properties = list(dict.fromkeys(properties))
        self.list_page_size = list_page_size
        self.search_page_size = search_page_size
        self.stats = FullReadStats()
        self.started_ms = 0
        self._lock = threading.Lock()
        self._boundary = _Boundary()
        self._pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUED_PAGES)
        self._stop = threading.Event()

    def __iter__(self) -> Generator[list[dict[str, Any]], None, None]:
        started = time.monotonic()
        self.started_ms = int(self.client.server_now() * 1000)
        workers = [
            threading.Thread(target=self._run, args=(self._list_walk,), name="full-read-list", daemon=True),
            threading.Thread(
                target=self._run, args=(self._search_walk,), name="full-read-search", daemon=True
            ),
        ]
        for worker in workers:
            worker.start()
        finished = 0
        try:
            while finished < len(workers):
                item = self._pages.get()
                if item is _END:
                    finished += 1
                elif isinstance(item, BaseException):
                    raise item
                elif item:
                    yield item
        finally:
            self._stop.set()
            while any(worker.is_alive() for worker in workers):  # unblock a worker waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    self._pages.get(timeout=0.05)
            self.stats.seconds = round(time.monotonic() - started, 3)

    def waiting(self) -> int:
        """Pages read and not yet handed to the consumer (0: the next one is still in flight)."""
        return self._pages.qsize()

    def _run(self, walk: Any) -> None:
        try:
            walk()
        except BaseException as error:  # handed to the consumer, which raises it
            self._stop.set()
            self._put(error)
        finally:
            self._put(_END)

    def _put(self, item: Any) -> None:
        while True:
            try:
                self._pages.put(item, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set() and item is not _END and not isinstance(item, BaseException):
                    return

    # -- the list walk: ids upward, general budget ------------------------------------------------------
    def _list_walk(self) -> None:
        b = self._boundary
        pages = self.client.list_pages(self.object_type, self.properties, page_size=self.list_page_size)
        for records, after in pages:
            if self._stop.is_set():
                return
            ids = [int(r["id"]) for r in records]
            with self._lock:
                self.stats.list_calls += 1
                if self.stats.ordered and (ids != sorted(ids) or (ids and ids[0] <= b.list_high)):
                    self.stats.ordered = False  # from now on: read everything search has not returned
                if self.stats.ordered:
                    ceiling = b.search_low
                    kept = [r for r, i in zip(records, ids, strict=True) if ceiling is None or i < ceiling]
                    crossed = len(kept) < len(records)
                else:
                    kept = [r for r, i in zip(records, ids, strict=True) if i not in b.search_ids]
                    crossed = False
                if ids:
                    b.list_high = max(b.list_high, max(ids))
                self.stats.list_records += len(kept)
                self.stats.overlap_dropped += len(records) - len(kept)
                if crossed or not after:
                    b.list_done = True
            self._put(kept)
            if b.list_done:
                return
        with self._lock:
            b.list_done = True

    # -- the search walk: ids downward, search budget ---------------------------------------------------
    def _search_walk(self) -> None:
        b = self._boundary
        while not self._stop.is_set():
            with self._lock:
                if b.list_done or not self.stats.ordered:
                    b.search_done = True
                    return
                filters = [{"propertyName": "hs_object_id", "operator": "GT", "value": str(b.list_high)}]
                if b.search_low is not None:
                    filters.append(
                        {"propertyName": "hs_object_id", "operator": "LT", "value": str(b.search_low)}
                    )
            body = self.client.search(
                self.object_type,
                {
                    "filterGroups": [{"filters": filters}],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
                    "properties": self.properties,
                    "limit": self.search_page_size,
                    "after": "0",
                },
            )
            results = body.get("results", [])
            with self._lock:
                self.stats.search_calls += 1
                if not self.stats.ordered or (b.list_done and not results):
                    b.search_done = True
                    return
                floor = b.list_high  # the list may have moved on while the search was in flight
                kept = [r for r in results if int(r["id"]) > floor]
                if kept:
                    lowest = min(int(r["id"]) for r in kept)
                    b.search_low = lowest if b.search_low is None else min(b.search_low, lowest)
                    b.search_ids.update(int(r["id"]) for r in kept)
                self.stats.search_records += len(kept)
                self.stats.overlap_dropped += len(results) - len(kept)
                done = len(results) < self.search_page_size or len(kept) < len(results)
                if done:
                    b.search_done = True
            self._put(kept)
            if done:
                return
