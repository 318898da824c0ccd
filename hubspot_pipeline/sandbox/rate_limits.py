"""HubSpot's request budgets (reference §9): a rolling 10-second window per app and portal (OAuth apps
110, private apps 100/190/250 by profile), a daily cap per portal for private apps, and 5 searches per
second per portal. Every request attempt is also recorded, so a test can check a client never exceeded
a window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hubspot_pipeline.sandbox.timeutil import DAY_MS

TEN_SECONDS_MS = 10_000
ONE_SECOND_MS = 1_000


class RollingWindow:
    def __init__(self, width_ms: int) -> None:
        self.width_ms = width_ms
        self._stamps: deque[int] = deque()

    def used(self, now_ms: int) -> int:
        stamps = self._stamps
        while stamps and stamps[0] <= now_ms - self.width_ms:
            stamps.popleft()
        return len(stamps)

    def take(self, now_ms: int, limit: int) -> tuple[bool, int]:
        """Spends one request if the window allows it; (allowed, remaining after)."""
        used = self.used(now_ms)
        if used >= limit:
            return False, 0
        self._stamps.append(now_ms)
        return True, limit - used - 1


@dataclass
class PortalBudget:
    burst: dict[str, RollingWindow] = field(default_factory=dict)
    # The deprecated per-second figures, still reported (not enforced) per app.
    secondly: dict[str, RollingWindow] = field(default_factory=dict)
    search: RollingWindow = field(default_factory=lambda: RollingWindow(ONE_SECOND_MS))
    day: int = -1
    daily_used: int = 0
    # Every API request counted against the budget, accepted or not, in sandbox ms; searches apart, as
    # HubSpot counts them against their own per-second budget, not the 10-second window.
    attempts: list[int] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)
    search_attempts: list[int] = field(default_factory=list)
    search_accepted: list[int] = field(default_factory=list)

    def log(self, budget: str) -> tuple[list[int], list[int]]:
        """(attempts, accepted) of one budget: "general" or "search"."""
        if budget == "search":
            return self.search_attempts, self.search_accepted
        return self.attempts, self.accepted

    def clear_logs(self) -> None:
        for stamps in (self.attempts, self.accepted, self.search_attempts, self.search_accepted):
            stamps.clear()

    def window(self, key: str) -> RollingWindow:
        window = self.burst.get(key)
        if window is None:
            window = self.burst[key] = RollingWindow(TEN_SECONDS_MS)
        return window

    def second(self, key: str) -> RollingWindow:
        window = self.secondly.get(key)
        if window is None:
            window = self.secondly[key] = RollingWindow(ONE_SECOND_MS)
        return window

    def _roll_day(self, now_ms: int) -> None:
        day = now_ms // DAY_MS
        if day != self.day:
            self.day, self.daily_used = day, 0

    def daily_remaining(self, now_ms: int, cap: int) -> int:
        self._roll_day(now_ms)
        return max(cap - self.daily_used, 0)

    def take_daily(self, now_ms: int, cap: int) -> tuple[bool, int]:
        self._roll_day(now_ms)
        if self.daily_used >= cap:
            return False, 0
        self.daily_used += 1
        return True, cap - self.daily_used


def busiest_window(stamps: list[int], width_ms: int) -> tuple[int, int]:
    """(most requests in any window of `width_ms`, the start of that window). Stamps need not be sorted."""
    ordered = sorted(stamps)
    best, best_start, left = 0, 0, 0
    for right, stamp in enumerate(ordered):
        while stamp - ordered[left] >= width_ms:
            left += 1
        if right - left + 1 > best:
            best, best_start = right - left + 1, ordered[left]
    return best, best_start


def windows_over(stamps: list[int], width_ms: int, limit: int) -> int:
    """How many requests arrived when the preceding `width_ms` already held `limit` or more requests."""
    ordered = sorted(stamps)
    over, left = 0, 0
    for right, stamp in enumerate(ordered):
        while stamp - ordered[left] >= width_ms:
            left += 1
        if right - left + 1 > limit:
            over += 1
    return over
