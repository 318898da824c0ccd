"""Delivering webhooks like HubSpot: signed (v1 and v3) JSON arrays of at most 100 events, at most 10
requests in flight per portal, a failure (connection error, any 4xx/5xx, or no answer within 5 s) retried
up to 10 times over about 24 hours with jitter, on the sandbox clock so tests can fast-forward. Optionally
delivers duplicates and shuffles order, which HubSpot also does now and then."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from hubspot_pipeline.hubspot.signatures import sign_v1, sign_v3
from hubspot_pipeline.sandbox.webhook_events import matches, payload

if TYPE_CHECKING:
    from hubspot_pipeline.sandbox.portal import Portal
    from hubspot_pipeline.sandbox.state import Sandbox

log = logging.getLogger(__name__)
USER_AGENT = (
    "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) "
    "- WebhooksExecutorDaemon-executor"
)
DELIVERY_LOG_SIZE = 10_000


@dataclass
class DeliveryAttempt:
    hub_id: int
    attempt_number: int
    event_ids: list[int]
    sent_at_ms: int
    outcome: str  # "200", "500", "timeout", "connection-error"
    will_retry: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "hubId": self.hub_id,
            "attemptNumber": self.attempt_number,
            "eventIds": self.event_ids,
            "sentAt": self.sent_at_ms,
            "outcome": self.outcome,
            "willRetry": self.will_retry,
        }


@dataclass
class DispatchStats:
    events_queued: int = 0
    requests_sent: int = 0
    requests_failed: int = 0
    events_delivered: int = 0
    events_given_up: int = 0
    max_in_flight: int = 0
    max_events_per_request: int = 0
    attempts: deque[DeliveryAttempt] = field(default_factory=lambda: deque(maxlen=DELIVERY_LOG_SIZE))


class WebhookDispatcher:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._queues: dict[int, deque[dict[str, Any]]] = {}
        self._retries: list[tuple[int, int, int, list[dict[str, Any]]]] = []  # (due ms, seq, hub, events)
        self._in_flight: dict[int, int] = {}
        self._event_ids = itertools.count(1001)
        self._sequence = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._duplicated: set[int] = set()  # events already sent twice are not duplicated again
        self.stats = DispatchStats()

    # --- events in ------------------------------------------------------------------------------------
    def enqueue(self, portal: Portal, event: dict[str, Any]) -> None:
        app = self.sandbox.app
        if app.settings is None:
            return  # no target URL: HubSpot has nowhere to send
        for subscription in app.subscriptions.values():
            if matches(subscription, event):
                body = payload(subscription, event, next(self._event_ids), portal.hub_id, app.app_id)
                self._queues.setdefault(portal.hub_id, deque()).append(body)
                self.stats.events_queued += 1

    def reset(self) -> None:
        self._queues.clear()
        self._retries.clear()
        self._duplicated.clear()
        self.stats = DispatchStats()

    def pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values()) + sum(len(r[3]) for r in self._retries)

    def in_flight(self) -> int:
        return sum(self._in_flight.values())

    # --- the loop -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            try:
                self.pump()
            except Exception:  # keep delivering whatever one bad batch did
                log.exception("webhook pump failed")
            await asyncio.sleep(self.sandbox.options.webhooks.flush_interval_ms / 1000)

    async def flush(self, timeout_seconds: float = 30.0) -> None:
        """Delivers everything queued now (not retries due later) and waits for the answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while loop.time() < deadline:
            self.pump()
            if not any(self._queues.values()) and self.in_flight() == 0 and not self._due_retries():
                return
            await asyncio.sleep(0.01)

    def _due_retries(self) -> bool:
        return bool(self._retries) and self._retries[0][0] <= self.sandbox.clock.now_ms()

    def _limit(self) -> int:
        settings = self.sandbox.app.settings
        if settings is not None and settings.max_concurrent_requests:
            return settings.max_concurrent_requests
        return self.sandbox.options.webhooks.max_concurrent_requests

    def pump(self) -> None:
        options = self.sandbox.options.webhooks
        rng = self.sandbox.rng
        now = self.sandbox.clock.now_ms()
        limit = self._limit()
        while self._retries and self._retries[0][0] <= now:
            _, _, hub_id, events = self._retries[0]
            if self._in_flight.get(hub_id, 0) >= limit:
                break
            heapq.heappop(self._retries)
            self._send(hub_id, events)
        for hub_id, queue in self._queues.items():
            if options.out_of_order and len(queue) > 1:
                items = list(queue)
                rng.shuffle(items)
                queue.clear()
                queue.extend(items)
            while queue and self._in_flight.get(hub_id, 0) < limit:
                batch = [queue.popleft() for _ in range(min(options.max_events_per_request, len(queue)))]
                for event in batch:
                    duplicate = options.duplicate_probability and rng.random() < options.duplicate_probability
                    if duplicate and event["eventId"] not in self._duplicated:
                        self._duplicated.add(event["eventId"])
                        queue.append(dict(event))  # the same notification again, later
                self._send(hub_id, batch)

    def _send(self, hub_id: int, events: list[dict[str, Any]]) -> None:
        self._in_flight[hub_id] = self._in_flight.get(hub_id, 0) + 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.in_flight())
        self.stats.max_events_per_request = max(self.stats.max_events_per_request, len(events))
        task = asyncio.get_running_loop().create_task(self._deliver(hub_id, events))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, hub_id: int, events: list[dict[str, Any]]) -> None:
        sandbox = self.sandbox
        options = sandbox.options.webhooks
        settings = sandbox.app.settings
        attempt = events[0]["attemptNumber"] if events else 0
        outcome = "no-target"
        try:
            if settings is None:
                return
            body = orjson.dumps(events)
            timestamp = str(sandbox.clock.now_ms())
            secret = sandbox.app.client_secret
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-HubSpot-Signature": sign_v1(secret, body),
                "X-HubSpot-Signature-Version": "v1",
                "X-HubSpot-Signature-v3": sign_v3(secret, "POST", settings.target_url, body, timestamp),
                "X-HubSpot-Request-Timestamp": timestamp,
                "X-HubSpot-Timeout-Millis": str(int(options.answer_timeout_seconds * 1000)),
            }
            if self._client is None:
                self._client = httpx.AsyncClient()
            timeout = sandbox.clock.real_seconds(options.answer_timeout_seconds)
            try:
                response = await self._client.post(
                    settings.target_url, content=body, headers=headers, timeout=timeout
                )
                outcome = str(response.status_code)
                ok = 200 <= response.status_code < 300
            except httpx.TimeoutException:
                outcome, ok = "timeout", False
            except httpx.HTTPError:
                outcome, ok = "connection-error", False
            self.stats.requests_sent += 1
            retry = not ok and attempt < options.max_retries
            if ok:
                self.stats.events_delivered += len(events)
            else:
                self.stats.requests_failed += 1
                if retry:
                    self._schedule_retry(hub_id, events, attempt)
                else:
                    self.stats.events_given_up += len(events)
            self.stats.attempts.append(
                DeliveryAttempt(
                    hub_id, attempt, [event["eventId"] for event in events], int(timestamp), outcome, retry
                )
            )
        finally:
            self._in_flight[hub_id] -= 1

    def _schedule_retry(self, hub_id: int, events: list[dict[str, Any]], attempt: int) -> None:
        options = self.sandbox.options.webhooks
        delays = options.retry_delays_seconds or [60.0]
        delay = delays[min(attempt, len(delays) - 1)]
        delay *= 1 + self.sandbox.rng.uniform(-options.retry_jitter, options.retry_jitter)
        due = self.sandbox.clock.now_ms() + int(delay * 1000)
        retried = [{**event, "attemptNumber": attempt + 1} for event in events]
        heapq.heappush(self._retries, (due, next(self._sequence), hub_id, retried))

    def retry_schedule(self) -> list[dict[str, Any]]:
        return [
            {"dueAt": due, "hubId": hub, "events": len(events), "attemptNumber": events[0]["attemptNumber"]}
            for due, _, hub, events in sorted(self._retries)
        ]
