"""A real HTTP endpoint that records webhook deliveries, for tests (threaded, one port per test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import orjson

from tests.local_http import serve_posts


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def events(self) -> list[dict]:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    # (delivery number starting at 0) -> (status, seconds to wait before answering)
    answer: Callable[[int], tuple[int, float]] = lambda number: (200, 0.0)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict]:
        return [event for delivery in self.deliveries for event in delivery.events]


@contextmanager
def run_receiver(path: str = "/webhooks/hubspot?portal=1") -> Iterator[Receiver]:
    receiver: Receiver | None = None

    def on_post(request_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert receiver is not None
        with receiver.lock:
            number = len(receiver.deliveries)
            receiver.deliveries.append(Delivery(request_path, headers, body))
            receiver.in_flight += 1
            receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
        status, delay = receiver.answer(number)
        time.sleep(delay)
        with receiver.lock:
            receiver.in_flight -= 1
        return status, {}, b""

    with serve_posts(on_post) as port:
        receiver = Receiver(f"http://127.0.0.1:{port}{path}")
        yield receiver
