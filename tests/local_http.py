"""A real HTTP server on 127.0.0.1 for tests, answering each POST as a function says (threaded, a free port
per use): the endpoints that record the sandbox's webhook deliveries and the workflows' custom actions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (path, headers, body) -> (status, headers, body) of the answer
OnPost = Callable[[str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@contextmanager
def serve_posts(on_post: OnPost) -> Iterator[int]:
    """Serve until the block ends, yielding the port; a client that gave up waiting is ignored."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status, headers, content = on_post(self.path, dict(self.headers.items()), body)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except OSError:
                pass  # the client gave up (a timeout test; the sandbox stops waiting after 5 s, as HubSpot does)

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default backlog of 5 would hold back concurrent deliveries
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
