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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from hubspot_pipeline.workflows.custom_action import signature


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

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert receiver is not None
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.lock:
                number = len(receiver.deliveries)
                receiver.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
            status, delay, headers = receiver.answer(number)
            time.sleep(delay)
            key = self.headers.get("Idempotency-Key", "")
            if 200 <= status < 300:
                with receiver.lock:
                    if key not in receiver.acted:
                        receiver.acted.append(key)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
