"""No process of the project writes a request URL of its HTTP libraries to a log: the developer API key
travels as `?hapikey=` and notification URLs carry tokens, so httpx, httpcore, urllib3 and apprise stay at
WARNING even when a process turns its root logger to DEBUG. Each entry point (the command line, the API
app uvicorn's workers import, the Dagster code location runs load) is imported in a fresh interpreter whose
root logger is at DEBUG, then makes a request with a secret in its query string."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "hapikey-secret-0123456789"

PROGRAM = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
{imports}
import httpx, requests
httpx.get(sys.argv[1] + "/webhooks/v3/1/settings?hapikey={secret}")
requests.get(sys.argv[1] + "/services/T0/B0/{secret}")
print("levels", logging.getLogger("httpx").getEffectiveLevel(), logging.getLogger("urllib3").getEffectiveLevel())
"""


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _run(imports: str, server: str) -> subprocess.CompletedProcess[str]:
    program = PROGRAM.format(imports=imports, secret=SECRET)
    return subprocess.run(
        [sys.executable, "-c", program, server], capture_output=True, text=True, timeout=120, check=True
    )


def test_without_the_project_a_debug_root_logger_writes_the_secret_url(local_server: str) -> None:
    # What the rule guards against: the libraries do log the full URL when nothing holds them back.
    result = _run("", local_server)
    assert SECRET in result.stderr


@pytest.mark.parametrize(
    "entry_point",
    [
        "from hubspot_pipeline.cli import main",  # every hubspot-pipeline command
        "from hubspot_pipeline.api.app import create_app",  # what each uvicorn worker imports
        "from hubspot_pipeline.definitions import defs",  # what Dagster's code server and runs load
        "import hubspot_pipeline.monitoring.notify",  # apprise's notifications
    ],
)
def test_no_entry_point_logs_a_secret_in_a_url(local_server: str, entry_point: str) -> None:
    result = _run(entry_point, local_server)
    assert SECRET not in result.stderr
    assert "HTTP Request" not in result.stderr
    assert "levels 30 30" in result.stdout
