"""What CRM search sees. HubSpot's search index trails writes by seconds, so a write becomes visible only
once the sandbox clock passes its `visible_at`; until then search still sees the previous version (or
nothing, for a new record). This is what exposes "search, then create" dedup bugs.

Documents live in slots with numpy columns beside them (ids, liveness, and each numeric property a query
has filtered or sorted on), kept up to date write by write, so a search over a million records is a few
vectorised passes even when writes and searches interleave."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import numpy as np

_REMOVED: dict[str, str] = {}
Parse = Callable[[str], float | None]
_INITIAL_CAPACITY = 1024


class SearchIndex:
    def __init__(self) -> None:
        self._pending: list[tuple[int, int, int, dict[str, str]]] = []
        self._sequence = itertools.count()
        # Sequence of the newest change applied per record, so a change made while the lag was longer
        # never overwrites a newer one that became visible first.
        self._applied: dict[int, int] = {}
        self._positions: dict[int, int] = {}
        self._docs: list[dict[str, str] | None] = []
        self._ids = np.zeros(_INITIAL_CAPACITY, dtype=np.int64)
        self._alive = np.zeros(_INITIAL_CAPACITY, dtype=bool)
        self._columns: dict[str, tuple[Parse, np.ndarray]] = {}

    # --- writes ---------------------------------------------------------------------------------------
    def put(self, record_id: int, properties: dict[str, str], visible_at_ms: int | None) -> None:
        sequence = next(self._sequence)
        if visible_at_ms is None:
            self._apply(sequence, record_id, properties)
        else:
            heapq.heappush(self._pending, (visible_at_ms, sequence, record_id, properties))

    def remove(self, record_id: int, visible_at_ms: int | None) -> None:
        self.put(record_id, _REMOVED, visible_at_ms)

    def catch_up(self, now_ms: int) -> None:
        """Apply, in write order, every pending change whose lag has passed."""
        pending = self._pending
        while pending and pending[0][0] <= now_ms:
            _, sequence, record_id, properties = heapq.heappop(pending)
            self._apply(sequence, record_id, properties)

    def pending_count(self) -> int:
        return len(self._pending)

    def _apply(self, sequence: int, record_id: int, properties: dict[str, str]) -> None:
        if self._applied.get(record_id, -1) > sequence:
            return
        self._applied[record_id] = sequence
        position = self._positions.get(record_id)
        if properties is _REMOVED:
            if position is not None:
                del self._positions[record_id]
                self._docs[position] = None
                self._alive[position] = False
                self._maybe_compact()
            return
        if position is None:
            position = self._append(record_id)
        self._docs[position] = properties
        self._alive[position] = True
        for name, (parse, values) in self._columns.items():
            if name != "hs_object_id":
                values[position] = _value(properties, name, parse)

    def _append(self, record_id: int) -> int:
        position = len(self._docs)
        if position == len(self._ids):
            self._grow(2 * len(self._ids))
        self._docs.append(None)
        self._ids[position] = record_id
        self._positions[record_id] = position
        if "hs_object_id" in self._columns:
            self._columns["hs_object_id"][1][position] = float(record_id)
        return position

    def _grow(self, capacity: int) -> None:
        def grown(array: np.ndarray, fill: object) -> np.ndarray:
            bigger = np.full(capacity, fill, dtype=array.dtype)
            bigger[: len(array)] = array
            return bigger

        self._ids = grown(self._ids, 0)
        self._alive = grown(self._alive, False)
        self._columns = {
            name: (parse, grown(values, np.nan)) for name, (parse, values) in self._columns.items()
        }

    def _maybe_compact(self) -> None:
        """Drop dead slots once they are most of the index (merges and deletions leave them behind)."""
        size = len(self._docs)
        if size < _INITIAL_CAPACITY or len(self._positions) * 2 > size:
            return
        keep = np.nonzero(self._alive[:size])[0]
        self._docs = [self._docs[p] for p in keep]
        capacity = max(_INITIAL_CAPACITY, 2 * len(keep))
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: len(keep)] = self._ids[keep]
        self._ids = ids
        self._alive = np.zeros(capacity, dtype=bool)
        self._alive[: len(keep)] = True
        self._positions = {int(record_id): p for p, record_id in enumerate(self._ids[: len(keep)])}
        columns = {}
        for name, (parse, values) in self._columns.items():
            kept = np.full(capacity, np.nan)
            kept[: len(keep)] = values[keep]
            columns[name] = (parse, kept)
        self._columns = columns

    # --- reads ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._positions)

    def snapshot(self) -> tuple[np.ndarray, list[dict[str, str] | None], np.ndarray]:
        """Record ids (int64), their documents (None for a dead slot) and which slots are alive, aligned."""
        size = len(self._docs)
        return self._ids[:size], self._docs, self._alive[:size]

    def column(self, name: str, parse: Parse) -> np.ndarray:
        """A property as float64 aligned with snapshot(); NaN where a record has no (parsable) value.
        Built on first use, then maintained on every write."""
        cached = self._columns.get(name)
        if cached is None:
            values = np.full(len(self._ids), np.nan)
            if name == "hs_object_id":
                values[: len(self._docs)] = self._ids[: len(self._docs)]
            else:
                for position, doc in enumerate(self._docs):
                    if doc is not None:
                        values[position] = _value(doc, name, parse)
            cached = self._columns[name] = (parse, values)
        return cached[1][: len(self._docs)]


def _value(doc: dict[str, str], name: str, parse: Parse) -> float:
    text = doc.get(name)
    number = parse(text) if text else None
    return np.nan if number is None else number
