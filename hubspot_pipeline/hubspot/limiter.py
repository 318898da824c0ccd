"""One request budget per HubSpot portal, shared by every process of a deployment, kept in PostgreSQL.

    limiter = PostgresRateLimiter(engine, portal_key="hub:123", per_ten_seconds=110, daily_limit=None)
    grant = limiter.acquire("general")   # blocks until a call may be made (grant.waited: seconds waited)
    ...make the call...
    limiter.complete(grant, ended=t)     # the call is over (answered or failed); t: time.monotonic() then
    limiter.acquire("search")            # search has its own 5-per-second budget (reference §9.1)
    limiter.observe(headers, grant)      # X-HubSpot-RateLimit-* of its response: lower Max, others' use
    limiter.block("general", 10)         # after a 429: every process pauses

Rows of `hubspot_rate_limit_buckets`, one per (portal, policy), are locked for the few milliseconds of a
decision. `general` and `search` keep a sliding log with, for every call, an upper bound of the moment HubSpot
counted it: while the call is in flight, its start plus the longest a call may take (`max_call_seconds`); once
it is over, the moment it ended (HubSpot counted it somewhere between start and end). A new call is allowed
when fewer than `limit` entries lie within the window before now. That guarantees that *no rolling window at
HubSpot* holds more than `limit` calls, whatever the mix of processes and threads, and however late a request
reaches HubSpot: the last call granted in any such window saw every other one in its log. (A fixed-window
counter lets twice the limit through across a window edge; logging grant times alone fails when a request is
delayed on its way.)

Both ends of every interval the limiter compares are read on one clock, PostgreSQL's: a call's start (its
grant, taken before the request leaves) and its end (taken after its answer arrived). HubSpot's clock may be
any amount ahead or behind; a constant offset cancels out of a difference, so only the two clocks' rates can
disagree, by parts per million (NTP slews a clock by at most 500 ppm: 5 ms over 10 s), and HubSpot's stamps
have a resolution (milliseconds at the sandbox). `guard_seconds` (default 50 ms, ten times that) widens the
window for those; it is not a latency allowance, since the start and end bounds already hold the latency.
The end is the moment the answer arrived, carried over to PostgreSQL's clock without a gap: `complete` is told
when (`ended`, the caller's monotonic clock) and logs `clock_timestamp() - (now - ended)`, where now is read
before the statement is sent, so the logged moment is never earlier than the true one (and the time spent
waiting for the pool or for the row's lock is not added to every call).

Calls made by someone else (another deployment, a script) show in `X-HubSpot-RateLimit-Remaining`: HubSpot's
count when the request arrived, which `observe` compares with the log's entries since one window before the
call was *sent* (every call of ours HubSpot counted then ended after that), not with the log as it is when the
answer is read: our older calls leaving the window in between would otherwise look like someone else's. So
entries are kept for two windows, and an answer to a call sent more than a window ago is not compared.

`per_ten_seconds` is the portal's general budget (100, 110 for OAuth apps, 190, 250); one process configures
it (the sync), the others pass None and use whatever the portal's row says. `daily` counts calls since the
start of the portal's day (`timezone`) and, once spent, raises `HubSpotRateLimitError` until the reset
instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db.tables import hubspot_rate_limit_buckets as buckets
from hubspot_pipeline.hubspot.errors import HubSpotRateLimitError

Kind = Literal["general", "search"]
# The general budgets HubSpot sells (reference §9.1): 100 (free/starter), 110 (OAuth apps), 190 (pro/ent.).
GENERAL_BUDGETS = (100, 110, 190, 250)
# Unconfigured: the smallest, until the X-HubSpot-RateLimit-Max header or a configured process says more.
DEFAULT_PER_TEN_SECONDS = 100
MAX_SINGLE_SLEEP = 1.0
DAILY_SYNC_SECONDS = 5.0


@dataclass(frozen=True)
class Grant:
    """Permission for one call; hand it back to `complete()` when the call is over."""

    kind: Kind
    waited: float = 0.0
    entry: dt.datetime | None = None  # its provisional entry in the log


class RateLimiter(Protocol):
    def acquire(self, kind: Kind) -> Grant: ...

    def complete(self, grant: Grant, ended: float | None = None) -> None: ...

    def observe(self, headers: Mapping[str, str], grant: Grant | None = None) -> None: ...

    def block(self, kind: Kind, seconds: float) -> None: ...

    def block_daily(self, until: float | None) -> float: ...


class UnlimitedRateLimiter:
    """No shared budget: for one-off scripts and protocol tests only; never for a real portal."""

    def acquire(self, kind: Kind) -> Grant:
        return Grant(kind)

    def complete(self, grant: Grant, ended: float | None = None) -> None:
        return None

    def observe(self, headers: Mapping[str, str], grant: Grant | None = None) -> None:
        return None

    def block(self, kind: Kind, seconds: float) -> None:
        return None

    def block_daily(self, until: float | None) -> float:
        return until or next_utc_midnight()


class PostgresRateLimiter:
    def __init__(
        self,
        engine: sa.Engine,
        portal_key: str,
        *,
        per_ten_seconds: int | None = None,
        window_seconds: float = 10.0,
        search_per_second: int = 5,
        daily_limit: int | None = None,
        guard_seconds: float = 0.05,
        search_guard_seconds: float = 0.1,
        max_call_seconds: float = 75.0,
        timezone: str = "UTC",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.portal_key = portal_key
        self.timezone = ZoneInfo(timezone)
        self._sleep = sleep
        # An in-flight call counts until then; the client's timeout (with retries of a read) is shorter.
        self.max_call = dt.timedelta(seconds=max_call_seconds)
        self._windows = {
            "general": (
                per_ten_seconds or DEFAULT_PER_TEN_SECONDS,
                int((window_seconds + guard_seconds) * 1000),
            ),
            "search": (search_per_second, int((1.0 + search_guard_seconds) * 1000)),
        }
        self.daily_limit = daily_limit
        self._known_limit = per_ten_seconds or DEFAULT_PER_TEN_SECONDS
        self._next_daily_sync = 0.0
        self._configured = {
            "general": per_ten_seconds is not None,
            "search": True,
            "daily": daily_limit is not None,
        }
        self._ensure_rows()

    def _ensure_rows(self) -> None:
        rows = [
            {"portal_key": self.portal_key, "policy": policy, "limit": limit, "window_ms": window_ms}
            for policy, (limit, window_ms) in self._windows.items()
        ]
        rows.append(
            {
                "portal_key": self.portal_key,
                "policy": "daily",
                "limit": self.daily_limit or 0,
                "window_ms": 86_400_000,
            }
        )
        with self.engine.begin() as conn:
            for row in rows:
                statement = insert(buckets).values(**row, window_start=sa.func.now())
                keys = [buckets.c.portal_key, buckets.c.policy]
                if self._configured[str(row["policy"])]:
                    # A restart with a new configuration takes effect; grants already made stay counted.
                    excluded = statement.excluded
                    statement = statement.on_conflict_do_update(
                        index_elements=keys, set_={"limit": excluded.limit, "window_ms": excluded.window_ms}
                    )
                else:  # keep what the portal's row already says (set by another process or learned)
                    statement = statement.on_conflict_do_nothing(index_elements=keys)
                conn.execute(statement)

    # -- taking budget ---------------------------------------------------------------------------------
    def acquire(self, kind: Kind) -> Grant:
        """Wait until one call of this kind fits every budget and record it."""
        started = time.monotonic()
        while True:
            wait, entry = self._try_acquire(kind)
            if entry is not None:
                return Grant(kind, time.monotonic() - started, entry)
            self._sleep(min(wait, MAX_SINGLE_SLEEP))

    def complete(self, grant: Grant, ended: float | None = None) -> None:
        """The call is over: HubSpot counted it by then, so its log entry becomes that moment (from its
        provisional, later, bound), and the budget frees up as early as it safely can. `ended`: when the
        answer arrived, on `time.monotonic()`; None: now."""
        if grant.entry is None:
            return
        # Read before the statement is sent: PostgreSQL's clock_timestamp() comes later, so the entry below is
        # at or after the true end on PostgreSQL's clock.
        ago = 0.0 if ended is None else max(time.monotonic() - ended, 0.0)
        end = sa.func.clock_timestamp() - sa.func.make_interval(0, 0, 0, 0, 0, 0, ago)
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == grant.kind)
                .values(grants=sa.func.array_replace(buckets.c.grants, grant.entry, end))
            )

    def _try_acquire(self, kind: Kind) -> tuple[float, dt.datetime | None]:
        with self.engine.begin() as conn:
            rows = {
                row.policy: row
                for row in conn.execute(
                    sa.select(buckets)
                    .where(buckets.c.portal_key == self.portal_key, buckets.c.policy.in_([kind, "daily"]))
                    .order_by(buckets.c.policy)
                    .with_for_update()
                )
            }
            now: dt.datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            window = rows[kind]
            daily = rows["daily"]
            wait = 0.0
            for row in (window, daily):
                if row.blocked_until is not None and row.blocked_until > now:
                    if row.policy == "daily":
                        raise self._daily_error(row.blocked_until.timestamp())
                    wait = max(wait, (row.blocked_until - now).total_seconds())
            horizon = now - dt.timedelta(milliseconds=window.window_ms)
            kept = _kept(window.grants, now, window.window_ms)
            # Entries are upper bounds of when HubSpot counted each call; in-flight ones lie in the future.
            entries = sorted(g for g in kept if g > horizon)
            if len(entries) >= window.limit:
                wait = max(wait, (entries[len(entries) - window.limit] - horizon).total_seconds())
            day_start = self._day_start(now)
            used = daily.used if daily.window_start >= day_start else 0
            if daily.limit and used >= daily.limit:
                raise self._daily_error(self._next_day(now).timestamp())
            if wait > 0:
                return max(wait, 0.001), None
            entry = now + self.max_call
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == kind)
                .values(grants=[*kept, entry], updated_at=now)
            )
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == "daily")
                .values(used=used + 1, window_start=max(daily.window_start, day_start), updated_at=now)
            )
            return 0.0, entry

    # -- learning from HubSpot -------------------------------------------------------------------------
    def observe(self, headers: Mapping[str, str], grant: Grant | None = None) -> None:
        """Adjust to the X-HubSpot-RateLimit-* headers of a (non-search) response; `grant`: its call's, which
        dates HubSpot's count (None: the count is taken as of now)."""
        lower = {k.lower(): v for k, v in headers.items()}
        maximum = _int(lower.get("x-hubspot-ratelimit-max"))
        remaining = _int(lower.get("x-hubspot-ratelimit-remaining"))
        daily = _int(lower.get("x-hubspot-ratelimit-daily"))
        daily_remaining = _int(lower.get("x-hubspot-ratelimit-daily-remaining"))
        lower_max = maximum is not None and maximum < self._known_limit
        running_low = remaining is not None and remaining < max(2, self._known_limit // 5)
        # The daily count only needs to be roughly right: refresh it from HubSpot every few seconds.
        daily_due = (
            daily is not None and daily_remaining is not None and time.monotonic() >= self._next_daily_sync
        )
        if not (lower_max or running_low or daily_due):
            return
        with self.engine.begin() as conn:
            # Lock in the same order as acquire() (daily before general), or two processes could deadlock.
            conn.execute(
                sa.select(buckets.c.policy)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy.in_(["daily", "general"]))
                .order_by(buckets.c.policy)
                .with_for_update()
            ).all()
            if lower_max and maximum is not None:
                self._known_limit = maximum
                conn.execute(
                    sa.update(buckets)
                    .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == "general")
                    .values(limit=sa.func.least(buckets.c.limit, maximum))
                )
            if running_low and remaining is not None:
                self._account_for_others(conn, remaining, grant)
            if daily_due and daily is not None and daily_remaining is not None:
                self._next_daily_sync = time.monotonic() + DAILY_SYNC_SECONDS
                conn.execute(
                    sa.update(buckets)
                    .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == "daily")
                    .values(limit=daily, used=sa.func.greatest(buckets.c.used, daily - daily_remaining))
                )

    def _account_for_others(self, conn: sa.Connection, remaining: int, grant: Grant | None) -> None:
        # HubSpot counted more calls than ours: someone else spends this budget (another deployment, a
        # script). Log phantom grants now so that every process slows down accordingly.
        row = conn.execute(
            sa.select(buckets)
            .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == "general")
            .with_for_update()
        ).one()
        now: dt.datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
        window = dt.timedelta(milliseconds=row.window_ms)
        sent = now if grant is None or grant.entry is None else grant.entry - self.max_call
        if sent < now - window:
            return  # a count that old says nothing about the window now; and the log no longer holds it
        kept = _kept(row.grants, now, row.window_ms)
        ours = sum(1 for g in kept if g > sent - window)  # at least every call of ours HubSpot counted
        missing = min(row.limit - remaining - ours, row.limit)
        if missing > 2:
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == "general")
                .values(grants=kept + [now] * missing, updated_at=now)
            )

    def block(self, kind: Kind, seconds: float) -> None:
        """Pause every process's calls of this kind for `seconds` (after a 429)."""
        until = sa.func.clock_timestamp() + sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == kind)
                .values(
                    blocked_until=sa.func.greatest(sa.func.coalesce(buckets.c.blocked_until, until), until)
                )
            )

    def block_daily(self, until: float | None) -> float:
        """The daily cap is spent: refuse calls until `until` (epoch seconds), or the portal's next midnight;
        returns that moment."""
        with self.engine.begin() as conn:
            now: dt.datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            moment = dt.datetime.fromtimestamp(until, dt.UTC) if until else self._next_day(now)
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.portal_key == self.portal_key, buckets.c.policy == "daily")
                .values(blocked_until=moment)
            )
        return moment.timestamp()

    def next_daily_reset(self) -> float:
        return self._next_day(dt.datetime.now(dt.UTC)).timestamp()

    # -- helpers -------------------------------------------------------------------------------------
    def _day_start(self, now: dt.datetime) -> dt.datetime:
        local = now.astimezone(self.timezone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _next_day(self, now: dt.datetime) -> dt.datetime:
        start = self._day_start(now)
        return (start + dt.timedelta(days=1, hours=2)).replace(hour=0)

    def _daily_error(self, retry_at: float) -> HubSpotRateLimitError:
        reset = dt.datetime.fromtimestamp(retry_at, dt.UTC).isoformat(timespec="seconds")
        return HubSpotRateLimitError(
            f"The daily HubSpot API call limit of portal {self.portal_key} is spent; calls resume at {reset}. "
            "Nothing was sent; run again after the reset",
            status=429,
            category="RATE_LIMIT",
            policy="DAILY",
            retry_at=retry_at,
        )


def next_utc_midnight() -> float:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today + dt.timedelta(days=1)).timestamp()


def _kept(grants: list[dt.datetime], now: dt.datetime, window_ms: int) -> list[dt.datetime]:
    """The log's entries worth keeping: two windows' worth, so that `observe` can count the calls of ours
    HubSpot saw when it answered a call sent up to a window ago."""
    oldest = now - 2 * dt.timedelta(milliseconds=window_ms)
    return [g for g in grants if g > oldest]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
