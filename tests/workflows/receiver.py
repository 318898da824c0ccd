"""A workspace's custom-action endpoint, for tests: a real HTTP server on 127.0.0.1 that records each POST,
verifies its signature, and answers as told (a status, a delay, a Location). Acts once per idempotency key,
as a receiver should; `acted` lists the keys it acted on."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import orjson

from hubspot_pipeline.workflows.custom_action import signature
from tests.local_http import serve_posts


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return orjson.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        timestamp = int(self.headers["X-ColdCopy-Timestamp"])
        expected = signature(secret, timestamp, self.body)
        return hmac.compare_digest(expected, self.headers["X-ColdCopy-Signature"])


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    acted: list[str] = field(default_factory=list)
    # (delivery number from 0) -> (status, seconds to wait, extra headers)
    answer: Callable[[int], tuple[int, float, dict[str, str]]] = lambda number: (200, 0.0, {})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def actions(self) -> list[Delivery]:
        """Deliveries that are actions (not save-time pings)."""
        return [d for d in self.deliveries if d.json.get("type") != "ping"]


@contextmanager
def run_receiver(path: str = "/hooks/coldcopy") -> Iterator[Receiver]:
    receiver: Receiver | None = None

    def on_post(request_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert receiver is not None
        with receiver.lock:
            number = len(receiver.deliveries)
            receiver.deliveries.append(Delivery(request_path, headers, body))
        status, delay, answer_headers = receiver.answer(number)
        time.sleep(delay)
        key = headers.get("Idempotency-Key", "")
        if 200 <= status < 300:
            with receiver.lock:
                if key not in receiver.acted:
                    receiver.acted.append(key)
        return status, answer_headers, b"ok"

    with serve_posts(on_post) as port:
        receiver = Receiver(f"http://127.0.0.1:{port}{path}")
        yield receiver
