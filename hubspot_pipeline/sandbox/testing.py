"""Run the sandbox for a test or a benchmark: a real HTTP server (uvicorn) in a background thread on a
free 127.0.0.1 port.

    from hubspot_pipeline.sandbox.testing import run_sandbox

    with run_sandbox(index_lag_seconds=2) as sandbox:
        httpx.get(sandbox.base_url + "/crm/v3/objects/contacts",
                  headers={"Authorization": f"Bearer {sandbox.private_app_token}"})
        sandbox.admin.advance(3)
        assert sandbox.admin.calls("GET /crm/v3/objects/contacts") == 1
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from hubspot_pipeline.sandbox.admin_client import SandboxAdmin
from hubspot_pipeline.sandbox.app import SandboxApp, create_app
from hubspot_pipeline.sandbox.options import SandboxOptions

STARTUP_TIMEOUT_SECONDS = 15


@dataclass
class SandboxHandle:
    base_url: str
    private_app_token: str
    hub_id: int
    app_id: int
    client_id: str
    client_secret: str
    developer_api_key: str
    admin: SandboxAdmin
    app: SandboxApp  # in-process state, for tests that need to look inside
    options: SandboxOptions

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.private_app_token}"}

    def restore(self) -> None:
        """Back to a fresh sandbox with the options it started with (what the pytest fixture does per test)."""
        self.admin.reset()
        self.admin.configure(**self.options.model_dump())


@contextmanager
def run_sandbox(**options: Any) -> Iterator[SandboxHandle]:
    """Serve a fresh sandbox; any SandboxOptions field may be given (nested ones as dicts)."""
    app = create_app(**options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, date_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"hubspot-sandbox-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the HubSpot sandbox did not start; see the log above for uvicorn's error")
        time.sleep(0.01)
    base_url = f"http://127.0.0.1:{port}"
    sandbox_options = app.sandbox.options
    admin = SandboxAdmin(base_url, sandbox_options.hub_id)
    try:
        yield SandboxHandle(
            base_url=base_url,
            private_app_token=sandbox_options.private_app_token,
            hub_id=sandbox_options.hub_id,
            app_id=sandbox_options.app_id,
            client_id=sandbox_options.client_id,
            client_secret=sandbox_options.client_secret,
            developer_api_key=sandbox_options.developer_api_key,
            admin=admin,
            app=app,
            options=sandbox_options,
        )
    finally:
        admin.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
