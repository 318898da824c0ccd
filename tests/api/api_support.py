"""Helpers of the API tests: workspaces with API keys and, where needed, a connected HubSpot portal."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from hubspot_pipeline.api import keys
from hubspot_pipeline.api.app import PREFIX
from hubspot_pipeline.db.tables import hubspot_integrations, workspaces
from hubspot_pipeline.sandbox.testing import SandboxHandle

_hub_ids = itertools.count(700_000_000 + uuid.uuid4().int % 1_000_000 * 100)


@dataclass
class Tenant:
    workspace_id: uuid.UUID
    key: str
    hub_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def new_workspace(engine: sa.Engine) -> uuid.UUID:
    slug = f"ws-{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(workspaces).values(name=f"Test {slug}", slug=slug).returning(workspaces.c.id)
        ).scalar_one()


def connect_portal(engine: sa.Engine, workspace_id: uuid.UUID, hub_id: int) -> None:
    """Record a HubSpot connection the way the OAuth callback leaves it (ciphertext stands in for tokens)."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id,
                hub_id=str(hub_id),
                access_token="gAAAAA-ciphertext-access",
                refresh_token="gAAAAA-ciphertext-refresh",
                scopes=["oauth", "crm.objects.contacts.read"],
            )
        )


def new_hub_id() -> int:
    """A portal id no other test uses (the database outlives the sandbox's per-test reset)."""
    return next(_hub_ids)


def make_tenant(engine: sa.Engine, *, connected: bool = True) -> Tenant:
    workspace_id = new_workspace(engine)
    with engine.begin() as conn:
        key = keys.issue_key(conn, workspace_id, "test").key
    hub_id = new_hub_id()
    if connected:
        connect_portal(engine, workspace_id, hub_id)
    return Tenant(workspace_id=workspace_id, key=key, hub_id=hub_id)


def url(path: str) -> str:
    return f"{PREFIX}{path}"


def approve(authorize_url: str, hub_id: int) -> dict[str, str]:
    """What the user's browser does at HubSpot: approve for one account, follow the redirect's query."""
    response = httpx.get(f"{authorize_url}&hub_id={hub_id}", follow_redirects=False)
    assert response.status_code == 302, response.text
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.headers["location"]).query))


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.webhook_url = base_url + url("/webhooks")


def developer(sandbox: SandboxHandle, method: str, path: str, json: dict) -> httpx.Response:
    return httpx.request(
        method,
        f"{sandbox.base_url}/webhooks/v3/{sandbox.app_id}{path}",
        params={"hapikey": sandbox.developer_api_key},
        json=json,
    )


def point_webhooks_at(sandbox: SandboxHandle, target: str) -> None:
    assert developer(
        sandbox, "PUT", "/settings", {"targetUrl": target, "throttling": {"maxConcurrentRequests": 10}}
    ).is_success
    for event_type, prop in (("contact.propertyChange", "firstname"), ("contact.creation", None)):
        body = {"eventType": event_type, "active": True, **({"propertyName": prop} if prop else {})}
        assert developer(sandbox, "POST", "/subscriptions", body).status_code == 201


def connect_over_http(api: Api, tenant: Tenant, hub_id: int) -> None:
    start = httpx.get(
        api.base_url + url("/auth"), params={"redirect": "false"}, headers=tenant.headers
    ).json()
    callback = httpx.get(api.base_url + url("/callback"), params=approve(start["authorize_url"], hub_id))
    assert callback.status_code == 200, callback.text


def portal_headers(sandbox: SandboxHandle, hub_id: int) -> dict[str, str]:
    token = sandbox.admin.issue_oauth_token(hub_id=hub_id)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(
    port: int,
    *extra: str,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    healthy: bool = True,
) -> subprocess.Popen:
    """`hubspot-pipeline serve` in its own process group, on the test database; returns once /health answers
    200 (with `healthy=False`, once it answers at all). `log`: a file that receives its stderr."""
    binary = Path(sys.executable).parent / "hubspot-pipeline"
    process = subprocess.Popen(
        [str(binary), "serve", "--port", str(port), *extra],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb") if log is not None else subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"http://127.0.0.1:{port}{url('/health')}", timeout=1).status_code
            if status == 200 or not healthy:
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
