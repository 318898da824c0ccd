"""The shared rate limiter in PostgreSQL: no rolling window ever holds more than the limit, whatever the
number of threads and limiter instances (processes are covered against the sandbox in
test_shared_budget.py); the daily cap stops calls; 429 blocks and headers adjust the budget."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.hubspot.errors import HubSpotRateLimitError
from hubspot_pipeline.hubspot.limiter import Grant, PostgresRateLimiter


def _max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_threads_of_two_limiters_never_exceed_the_rolling_window(engine: sa.Engine) -> None:
    portal = f"test:{uuid.uuid4()}"
    limiters = [
        PostgresRateLimiter(engine, portal, per_ten_seconds=5, window_seconds=1.0, guard_seconds=0.0)
        for _ in range(2)
    ]
    granted: list[float] = []
    lock = threading.Lock()

    def worker(limiter: PostgresRateLimiter) -> None:
        for _ in range(5):
            grant = limiter.acquire("general")
            with lock:
                granted.append(time.monotonic())
            limiter.complete(grant)

    threads = [threading.Thread(target=worker, args=(limiters[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 20
    # Calls complete right away here, so each entry is about its grant time; allow 50 ms for reading the clock.
    assert _max_in_any_window(granted, 0.95) <= 5


def test_a_call_still_in_flight_keeps_its_place_in_the_window(engine: sa.Engine) -> None:
    # Regression guard: logging only grant times lets a request that reaches HubSpot late share a window
    # with later ones. An in-flight call counts until it completes, however long ago it was granted.
    portal = f"test:{uuid.uuid4()}"
    pending: list[Grant] = []
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if pending:
            limiter.complete(pending.pop(0))  # the slow call finally answers

    limiter = PostgresRateLimiter(
        engine, portal, per_ten_seconds=1, window_seconds=0.2, guard_seconds=0, sleep=sleep
    )
    pending.append(limiter.acquire("general"))
    time.sleep(0.3)  # the grant is older than the window now, but its call is still in flight
    second = limiter.acquire("general")
    assert slept, "the in-flight call still held its place"
    assert second.entry is not None


def test_search_has_its_own_budget(engine: sa.Engine) -> None:
    portal = f"test:{uuid.uuid4()}"
    limiter = PostgresRateLimiter(
        engine, portal, per_ten_seconds=2, search_per_second=3, search_guard_seconds=0
    )
    for _ in range(2):
        limiter.acquire("general")
    for _ in range(3):
        limiter.acquire("search")
    from hubspot_pipeline.db.tables import hubspot_rate_limit_buckets as buckets

    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                sa.select(buckets.c.policy, sa.func.cardinality(buckets.c.grants)).where(
                    buckets.c.portal_key == portal
                )
            ).all()
        )
    assert rows["general"] == 2 and rows["search"] == 3


def test_the_daily_cap_raises_until_the_reset_instead_of_waiting(engine: sa.Engine) -> None:
    limiter = PostgresRateLimiter(engine, f"test:{uuid.uuid4()}", daily_limit=3)
    for _ in range(3):
        limiter.acquire("general")
    with pytest.raises(HubSpotRateLimitError) as caught:
        limiter.acquire("general")
    assert caught.value.policy == "DAILY"
    assert caught.value.retry_at is not None and caught.value.retry_at > time.time()


def test_a_429_block_pauses_every_limiter_of_the_portal(engine: sa.Engine) -> None:
    portal = f"test:{uuid.uuid4()}"
    slept: list[float] = []
    first = PostgresRateLimiter(engine, portal)
    second = PostgresRateLimiter(engine, portal, sleep=slept.append)
    first.block("general", 0.3)
    second.acquire("general")
    assert slept and sum(slept) > 0.1


def test_a_lower_max_header_lowers_the_shared_limit(engine: sa.Engine) -> None:
    portal = f"test:{uuid.uuid4()}"
    limiter = PostgresRateLimiter(engine, portal, per_ten_seconds=190)
    limiter.observe({"X-HubSpot-RateLimit-Max": "110", "X-HubSpot-RateLimit-Remaining": "109"})
    from hubspot_pipeline.db.tables import hubspot_rate_limit_buckets as buckets

    with engine.connect() as conn:
        limit = conn.execute(
            sa.select(buckets.c.limit).where(buckets.c.portal_key == portal, buckets.c.policy == "general")
        ).scalar_one()
    assert limit == 110


def test_calls_made_by_someone_else_are_counted_from_the_remaining_header(engine: sa.Engine) -> None:
    portal = f"test:{uuid.uuid4()}"
    slept: list[float] = []
    limiter = PostgresRateLimiter(
        engine, portal, per_ten_seconds=10, window_seconds=1.0, guard_seconds=0, sleep=slept.append
    )
    grant = limiter.acquire("general")
    limiter.complete(grant)
    limiter.observe({"X-HubSpot-RateLimit-Max": "10", "X-HubSpot-RateLimit-Remaining": "0"}, grant)
    limiter.complete(limiter.acquire("general"))
    assert slept  # the budget was spent elsewhere: the next call had to wait


def test_a_remaining_header_counted_before_our_own_calls_left_the_window_is_not_someone_elses_use(
    engine: sa.Engine,
) -> None:
    # Regression (bench/sync_push_50k.py, 2026-11-30): HubSpot counts Remaining when the request arrives, the
    # limiter read it after the answer, against its log as it was then. When our older calls left the window
    # in between (they leave it together at the start of every window after the first), the header looked
    # like calls made by someone else: phantom grants held up to 9 of the 100 slots for a whole window, and
    # 1 run in 2 needed a sixth window for its 500 calls (52 s instead of 44 s).
    portal = f"test:{uuid.uuid4()}"
    slept: list[float] = []
    limiter = PostgresRateLimiter(
        engine, portal, per_ten_seconds=10, window_seconds=1.0, guard_seconds=0, sleep=slept.append
    )
    other_thread = PostgresRateLimiter(engine, portal)
    for _ in range(9):
        limiter.complete(limiter.acquire("general"))
    slow = limiter.acquire("general")  # the 10th call: HubSpot counts all ten of ours, Remaining 0
    time.sleep(1.1)  # its answer comes back after the nine others have left the window
    limiter.complete(slow)
    other_thread.complete(other_thread.acquire("general"))  # meanwhile another call prunes the log
    limiter.observe({"X-HubSpot-RateLimit-Max": "10", "X-HubSpot-RateLimit-Remaining": "0"}, slow)
    limiter.complete(limiter.acquire("general"))
    assert slept == [], "two calls in the window, eight slots free: nothing to wait for"


def _pg_now(engine: sa.Engine):  # PostgreSQL's clock, the one the limiter logs on
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()


def _entries(engine: sa.Engine, portal: str) -> list[object]:
    from hubspot_pipeline.db.tables import hubspot_rate_limit_buckets as buckets

    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(buckets.c.grants).where(
                    buckets.c.portal_key == portal, buckets.c.policy == "general"
                )
            ).scalar_one()
        )


def test_a_completed_call_is_logged_when_its_answer_arrived_not_when_complete_ran(engine: sa.Engine) -> None:
    # The end handed to complete() is carried over to PostgreSQL's clock: the entry is no earlier than the
    # answer (the limiter's safety) and not as late as the complete() call (lock and pool waits are not
    # charged to the call).
    portal = f"test:{uuid.uuid4()}"
    limiter = PostgresRateLimiter(engine, portal, per_ten_seconds=10)
    grant = limiter.acquire("general")
    before_answer = _pg_now(engine)
    answered = time.monotonic()
    time.sleep(1.0)  # the caller is slow to report it
    before_complete = _pg_now(engine)
    limiter.complete(grant, answered)
    (entry,) = _entries(engine, portal)
    assert before_answer <= entry
    assert (before_complete - entry).total_seconds() >= 0.5


def test_without_an_end_a_completed_call_is_logged_at_completion(engine: sa.Engine) -> None:
    portal = f"test:{uuid.uuid4()}"
    limiter = PostgresRateLimiter(engine, portal, per_ten_seconds=10)
    grant = limiter.acquire("general")
    before_complete = _pg_now(engine)
    limiter.complete(grant)
    (entry,) = _entries(engine, portal)
    assert grant.entry is not None and before_complete <= entry < grant.entry


def test_the_default_guard_is_small_and_still_spaces_calls_a_full_window_apart(engine: sa.Engine) -> None:
    # The window is measured on PostgreSQL's clock at both ends, so the guard covers clock rates and stamp
    # resolution only: 50 ms, not a latency allowance. Call n+limit starts a window plus the guard after call n
    # ended.
    portal = f"test:{uuid.uuid4()}"
    limiter = PostgresRateLimiter(engine, portal, per_ten_seconds=2, window_seconds=0.5)
    assert limiter._windows["general"][1] == 550
    ends = []
    starts = []
    for _ in range(4):
        grant = limiter.acquire("general")
        starts.append(time.monotonic())
        ends.append(time.monotonic())
        limiter.complete(grant, ends[-1])
    assert starts[2] - ends[0] >= 0.55 - 0.01 and starts[3] - ends[1] >= 0.55 - 0.01
