"""`hubspot-pipeline api-key issue|list|revoke` and `hubspot-pipeline serve` (a real uvicorn process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
from api_support import new_workspace, url
from click.testing import CliRunner

from hubspot_pipeline.cli import main
from hubspot_pipeline.db.tables import audit_log


def test_a_key_is_printed_once_listed_by_prefix_and_revoked(engine: sa.Engine, database_url: str) -> None:
    workspace = new_workspace(engine)
    runner = CliRunner()
    issued = runner.invoke(main, ["api-key", "issue", "--workspace", str(workspace), "--name", "crm-sync"])
    assert issued.exit_code == 0, issued.output
    key = issued.stdout.strip()
    prefix = key.split("_")[1]
    listed = runner.invoke(main, ["api-key", "list", "--workspace", str(workspace)])
    assert prefix in listed.stdout and "crm-sync" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout
    revoked = runner.invoke(main, ["api-key", "revoke", "--workspace", str(workspace), prefix])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.stdout
    again = runner.invoke(main, ["api-key", "revoke", "--workspace", str(workspace), prefix])
    assert again.exit_code != 0 and "api-key list" in again.output
    with engine.connect() as conn:
        actions = conn.execute(
            sa.select(audit_log.c.action)
            .where(audit_log.c.workspace_id == workspace)
            .order_by(audit_log.c.id)
        ).scalars()
        assert list(actions) == ["api_key.issue", "api_key.revoke"]


def test_issuing_for_an_unknown_workspace_says_so(database_url: str) -> None:
    result = CliRunner().invoke(main, ["api-key", "issue", "--workspace", str(uuid.uuid4())])
    assert result.exit_code != 0
    assert "no workspace with id" in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(port: int, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`hubspot-pipeline serve` in its own process group, on the test database; returns once it answers."""
    binary = Path(sys.executable).parent / "hubspot-pipeline"
    process = subprocess.Popen(
        [str(binary), "serve", "--port", str(port), *extra],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{url('/health')}", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError(
                f"serve exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
            )
    process.kill()
    raise RuntimeError("serve did not answer /health within 60 s")


def stop_api(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_serve_runs_the_api_with_its_openapi_docs(database_url: str) -> None:
    port = free_port()
    process = start_api(port)
    try:
        docs = httpx.get(f"http://127.0.0.1:{port}{url('/openapi.json')}", timeout=5).json()
        assert url("/webhooks") in docs["paths"] and url("/sync/status") in docs["paths"]
        unauthenticated = httpx.get(f"http://127.0.0.1:{port}{url('/config')}", timeout=5)
        assert unauthenticated.status_code == 401
    finally:
        stop_api(process)
