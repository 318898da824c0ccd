"""Counts of API calls by endpoint (method and route template) and status, overall and per portal, so
tests and benchmarks can assert how many calls a sync made."""

from __future__ import annotations

from collections import Counter
from typing import Any


class CallCounters:
    def __init__(self) -> None:
        self._calls: Counter[tuple[str, int]] = Counter()
        self._by_portal: Counter[tuple[int, str, int]] = Counter()
        self.held: Counter[str] = Counter()  # requests waiting on a held endpoint now (options.faults.hold)

    def record(self, endpoint: str, status: int, hub_id: int | None) -> None:
        self._calls[(endpoint, status)] += 1
        if hub_id is not None:
            self._by_portal[(hub_id, endpoint, status)] += 1

    def reset(self) -> None:
        self._calls.clear()
        self._by_portal.clear()

    def snapshot(self, hub_id: int | None = None) -> dict[str, Any]:
        """{"total": n, "byEndpoint": {"POST /crm/v3/objects/contacts/batch/upsert": {"200": 3}}, "byStatus": ...,
        "held": {endpoint: requests waiting now}}"""
        if hub_id is None:
            items = [(endpoint, status, count) for (endpoint, status), count in self._calls.items()]
        else:
            items = [
                (endpoint, status, count)
                for (hub, endpoint, status), count in self._by_portal.items()
                if hub == hub_id
            ]
        by_endpoint: dict[str, dict[str, int]] = {}
        by_status: Counter[str] = Counter()
        for endpoint, status, count in sorted(items):
            by_endpoint.setdefault(endpoint, {})[str(status)] = count
            by_status[str(status)] += count
        return {
            "total": sum(by_status.values()),
            "byEndpoint": by_endpoint,
            "byStatus": dict(by_status),
            "held": {endpoint: count for endpoint, count in sorted(self.held.items()) if count},
        }
