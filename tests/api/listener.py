"""A real HTTP server that records every request reaching it: in the attacker's tests it stands for a service
inside the network (which the API must never be made to call), or for a capture of HubSpot's deliveries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Listener:
    port: int
    requests: list[Request] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def listening() -> Iterator[Listener]:
    """A listener on a free port, answering 200 `{}` to anything, for the `with` block."""
    listener: Listener | None = None

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            assert listener is not None
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            listener.requests.append(Request(self.command, self.path, dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = _record

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    listener = Listener(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()
