"""What CRM search sees. HubSpot's search index trails writes by seconds, so a write becomes visible only
once the sandbox clock passes its `visible_at`; until then search still sees the previous version (or
nothing, for a new record). This is what exposes "search, then create" dedup bugs."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import numpy as np

_REMOVED: dict[str, str] = {}


class SearchIndex:
    def __init__(self) -> None:
        self.docs: dict[int, dict[str, str]] = {}
        self._pending: list[tuple[int, int, int, dict[str, str]]] = []
        self._sequence = itertools.count()
        # Sequence of the newest change applied per record, so a change made while the lag was longer
        # never overwrites a newer one that became visible first.
        self._applied: dict[int, int] = {}
        # Column snapshots for vectorised filtering; rebuilt lazily after the index changes.
        self.version = 0
        self._snapshot: tuple[int, np.ndarray, list[dict[str, str]]] | None = None
        self._columns: dict[str, tuple[int, np.ndarray]] = {}

    def put(self, record_id: int, properties: dict[str, str], visible_at_ms: int | None) -> None:
        sequence = next(self._sequence)
        if visible_at_ms is None:
            self._apply(sequence, record_id, properties)
        else:
            heapq.heappush(self._pending, (visible_at_ms, sequence, record_id, properties))

    def remove(self, record_id: int, visible_at_ms: int | None) -> None:
        self.put(record_id, _REMOVED, visible_at_ms)

    def _apply(self, sequence: int, record_id: int, properties: dict[str, str]) -> None:
        if self._applied.get(record_id, -1) > sequence:
            return
        self._applied[record_id] = sequence
        self.version += 1
        if properties is _REMOVED:
            self.docs.pop(record_id, None)
        else:
            self.docs[record_id] = properties

    def catch_up(self, now_ms: int) -> None:
        """Apply, in write order, every pending change whose lag has passed."""
        pending = self._pending
        while pending and pending[0][0] <= now_ms:
            _, sequence, record_id, properties = heapq.heappop(pending)
            self._apply(sequence, record_id, properties)

    def pending_count(self) -> int:
        return len(self._pending)

    def snapshot(self) -> tuple[np.ndarray, list[dict[str, str]]]:
        """Record ids (int64) and their documents, aligned, as of the current version."""
        if self._snapshot is None or self._snapshot[0] != self.version:
            ids = np.fromiter(self.docs.keys(), dtype=np.int64, count=len(self.docs))
            self._snapshot = (self.version, ids, list(self.docs.values()))
        return self._snapshot[1], self._snapshot[2]

    def column(self, name: str, parse: Callable[[str], float | None]) -> np.ndarray:
        """A property as float64 aligned with snapshot(); NaN where a record has no (parsable) value."""
        cached = self._columns.get(name)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        ids, docs = self.snapshot()
        if name == "hs_object_id":
            values = ids.astype(np.float64)
        else:
            nan = float("nan")

            def value(doc: dict[str, str]) -> float:
                text = doc.get(name)
                number = parse(text) if text else None
                return nan if number is None else number

            values = np.fromiter(map(value, docs), dtype=np.float64, count=len(docs))
        self._columns[name] = (self.version, values)
        return values
