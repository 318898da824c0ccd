"""What CRM search sees. HubSpot's search index trails writes by seconds, so a write becomes visible only
once the sandbox clock passes its `visible_at`; until then search still sees the previous version (or
nothing, for a new record). This is what exposes "search, then create" dedup bugs."""

from __future__ import annotations

import heapq
import itertools

_REMOVED: dict[str, str] = {}


class SearchIndex:
    def __init__(self) -> None:
        self.docs: dict[int, dict[str, str]] = {}
        self._pending: list[tuple[int, int, int, dict[str, str]]] = []
        self._sequence = itertools.count()
        # Sequence of the newest change applied per record, so a change made while the lag was longer
        # never overwrites a newer one that became visible first.
        self._applied: dict[int, int] = {}

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
