"""A real HTTP endpoint that records webhook deliveries, for tests (threaded, one port per test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson


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

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert receiver is not None
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.lock:
                number = len(receiver.deliveries)
                receiver.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                receiver.in_flight += 1
                receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
            status, delay = receiver.answer(number)
            time.sleep(delay)
            with receiver.lock:
                receiver.in_flight -= 1
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sandbox gave up waiting, as HubSpot does after 5 s

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default backlog of 5 would hold back concurrent deliveries
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
