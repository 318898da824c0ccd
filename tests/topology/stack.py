"""The deployment topology on one machine: every part a separate process, sharing only PostgreSQL, the
network and the one `dagster.yaml` (issue #19).

    with Stack.start(database_url, api_workers=2) as stack:
        stack.api("GET", "/health")
        stack.graphql(QUERY, {...})

Processes: the HubSpot sandbox, a code server (`dagster api grpc`), the daemon, the webserver, and the API
(`hubspot-pipeline serve --workers N`). Each runs in a working directory of its own with a DAGSTER_HOME of its
own holding a copy of the repository's dagster.yaml, and a data folder of its own: nothing a process keeps
locally can reach another. Every process gets the same settings, `HUBSPOT_PIPELINE_ENV=production` among
them, so a value that would fall back to something local stops it at start. The daemon and the webserver
reach the code server over gRPC (a workspace.yaml in their own folder). `tests/topology/` drives it for the
test and `bench/deployment_capacity.py` for the capacity figures.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.databases import on_database
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFIX = "/api/integrations/hubspot"
LOCATION = "hubspot_pipeline"
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_admin_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        from hubspot_pipeline.db.connection import libpq_url

        return libpq_url(configured)
    from hubspot_pipeline.db.embedded import start_embedded
    from hubspot_pipeline.settings import get_settings

    return start_embedded(get_settings().data_dir).replace("/hubspot_pipeline?", "/postgres?")


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new, migrated database on DATABASE_URL's server (else the embedded one), dropped afterwards. The
    stack's daemon acts on every workspace it finds, so it gets a database of its own."""
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import create_database, drop_database

    admin_url = _server_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create_database(admin_url, name)
    url = on_database(admin_url, name)
    migrate.upgrade(engine=get_engine(url))
    try:
        yield url
    finally:
        get_engine(url).dispose()
        drop_database(admin_url, name)


def shared_settings(database_url: str, sandbox_url: str) -> dict[str, str]:
    """The one configuration every process of the deployment gets: what production sets in its secret store
    and config map. Nothing here names a folder."""
    from cryptography.fernet import Fernet

    from hubspot_pipeline.db.connection import dagster_storage_url, libpq_url

    return {
        "HUBSPOT_PIPELINE_ENV": "production",
        "DATABASE_URL": libpq_url(database_url),
        "DAGSTER_PG_URL": dagster_storage_url(database_url),
        "HUBSPOT_API_BASE_URL": sandbox_url,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "STATE_SIGNING_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "WORKFLOW_SIGNING_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "PRIVACY_HASH_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
    }


@dataclass
class Process:
    name: str
    folder: Path
    popen: subprocess.Popen
    log: Path

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Stack:
    root: Path
    settings: dict[str, str]
    sandbox_url: str
    api_url: str = ""
    webserver_url: str = ""
    grpc_port: int = 0
    processes: dict[str, Process] = field(default_factory=dict)
    keep_root: bool = False
    instance_yaml: str = ""  # the one dagster.yaml every process gets a copy of

    # ---- starting and stopping -------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        database_url: str,
        *,
        api_workers: int = 2,
        sandbox_args: tuple[str, ...] = (),
        extra_settings: dict[str, str] | None = None,
        root: Path | None = None,
        before_daemon: Callable[[Stack], None] | None = None,
        max_concurrent_runs: int | None = None,
        dequeue_threads: int | None = None,
    ) -> Stack:
        """Start every part and return once each answers. `before_daemon(stack)` runs once the API and the
        sandbox answer and before the daemon starts (to connect workspaces before its first sensor ticks).
        `max_concurrent_runs`: the run queue's bound instead of the repository dagster.yaml's (the benchmark
        uses production's). `dequeue_threads`: the run queue launches runs on this many threads instead of
        dagster.yaml's 4 (a launch through the code server waits for the run's process to start)."""
        import psycopg

        from hubspot_pipeline.db.connection import DAGSTER_SCHEMA, libpq_url

        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DAGSTER_SCHEMA}")
        keep = root is not None
        root = root or Path(tempfile.mkdtemp(prefix="hp-topology-"))
        sandbox_port = free_port()
        stack = cls(
            root=root,
            settings={},
            sandbox_url=f"http://127.0.0.1:{sandbox_port}",
            keep_root=keep,
            instance_yaml=(ROOT / "dagster.yaml").read_text(),
        )
        if max_concurrent_runs is not None:
            before = stack.instance_yaml
            stack.instance_yaml = re.sub(
                r"max_concurrent_runs: \d+", f"max_concurrent_runs: {max_concurrent_runs}", before
            )
            assert stack.instance_yaml != before or f"max_concurrent_runs: {max_concurrent_runs}" in before
        if dequeue_threads:
            line = re.compile(r"dequeue_num_workers: \d+")
            assert line.search(stack.instance_yaml)
            stack.instance_yaml = line.sub(f"dequeue_num_workers: {dequeue_threads}", stack.instance_yaml)
        stack.settings = {**shared_settings(database_url, stack.sandbox_url), **(extra_settings or {})}
        try:
            stack._spawn(
                "sandbox",
                ["hubspot-pipeline", "sandbox", "--port", str(sandbox_port), *sandbox_args],
            )
            api_port, stack.grpc_port, web_port = free_port(), free_port(), free_port()
            stack.api_url = f"http://127.0.0.1:{api_port}"
            stack.webserver_url = f"http://127.0.0.1:{web_port}"
            stack._spawn(
                "api",
                ["hubspot-pipeline", "serve", "--port", str(api_port), "--workers", str(api_workers)],
            )
            stack._spawn(
                "code-server",
                [
                    "dagster", "api", "grpc", "--module-name", "hubspot_pipeline.definitions",
                    "--location-name", LOCATION, "--host", "127.0.0.1", "--port", str(stack.grpc_port),
                ],
            )  # fmt: skip
            stack._wait_http("sandbox", f"{stack.sandbox_url}/_sandbox/health")
            stack._wait_http("api", f"{stack.api_url}{PREFIX}/health")
            if before_daemon is not None:
                before_daemon(stack)
            stack._wait_grpc()
            stack._spawn("daemon", ["dagster-daemon", "run", "-w", "workspace.yaml"])
            stack._spawn(
                "webserver",
                ["dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(web_port)],
            )
            stack._wait_http("webserver", f"{stack.webserver_url}/server_info")
        except BaseException:
            stack.stop()
            raise
        return stack

    def _folder(self, name: str) -> tuple[Path, dict[str, str]]:
        """The process's own working directory, DAGSTER_HOME (the repository's dagster.yaml, copied), data
        folder and compute-log folder, and its environment: the shared settings plus those paths."""
        folder = self.root / name
        home = folder / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(self.instance_yaml)
        (folder / "workspace.yaml").write_text(
            "load_from:\n"
            "  - grpc_server:\n"
            f"      host: 127.0.0.1\n      port: {self.grpc_port}\n      location_name: {LOCATION}\n"
        )
        env = {
            key: value
            for key, value in os.environ.items()
            # Nothing of the test process's own configuration leaks in: only the shared settings below.
            if not key.startswith(("HUBSPOT_", "DAGSTER_", "DATABASE_", "TOKEN_", "STATE_", "WORKFLOW_"))
            and key not in {"PRIVACY_HASH_SECRET", "WEBHOOK_PUBLIC_URL", "METRICS_TOKEN", "ALERT_NOTIFY_URLS"}
        }
        env.update(self.settings)
        env.update(
            DAGSTER_HOME=str(home),
            DAGSTER_COMPUTE_LOGS_DIR=str(folder / "compute_logs"),
            HUBSPOT_PIPELINE_DATA_DIR=str(folder / "data"),
            PYTHONUNBUFFERED="1",
        )
        return folder, env

    def _spawn(self, name: str, args: list[str]) -> Process:
        folder, env = self._folder(name)
        log = folder / "output.log"
        popen = subprocess.Popen(
            [str(BIN / args[0]), *args[1:]],
            cwd=folder,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, folder, popen, log)
        self.processes[name] = process
        return process

    def _check_alive(self) -> None:
        for process in self.processes.values():
            if process.popen.poll() is not None:
                raise AssertionError(f"{process.name} exited ({process.popen.returncode}):\n{process.tail()}")

    def _wait_http(self, name: str, url: str) -> None:
        def answers() -> bool:
            self._check_alive()
            try:
                return httpx.get(url, timeout=2).status_code < 500
            except httpx.HTTPError:
                return False

        wait_until(f"{name} at {url}", answers, STARTUP_SECONDS)

    def _wait_grpc(self) -> None:
        def serving() -> bool:
            self._check_alive()
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.grpc_port)) == 0

        wait_until(f"the code server on :{self.grpc_port}", serving, STARTUP_SECONDS)

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=10)
        if not self.keep_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def logs(self) -> str:
        """Each process's last output, for a failing assertion's message."""
        return "\n".join(f"==== {p.name}\n{p.tail(2000)}" for p in self.processes.values())

    # ---- talking to it ---------------------------------------------------------------------------

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.request(method, f"{self.api_url}{PREFIX}{path}", headers=headers, timeout=30, **kwargs)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.webserver_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def connect(self, key: str, hub_id: int) -> None:
        """Connect a workspace (its API key) to a sandbox portal through the API's OAuth flow, as a user does:
        the state is issued by one API worker and the callback may reach the other."""
        start = self.api("GET", "/auth", key, params={"redirect": "false"})
        assert start.status_code == 200, start.text
        approved = httpx.get(f"{start.json()['authorize_url']}&hub_id={hub_id}", follow_redirects=False)
        assert approved.status_code == 302, approved.text
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(approved.headers["location"]).query))
        callback = self.api("GET", "/callback", params=query)
        assert callback.status_code == 200, callback.text

    def point_webhooks_at_api(self, property_names: tuple[str, ...] = ("firstname",)) -> None:
        """The app's webhook target is the API; subscriptions as a developer sets them in HubSpot."""
        developer = {"hapikey": "sandbox-developer-key"}
        base = f"{self.sandbox_url}/webhooks/v3/1"
        httpx.put(
            f"{base}/settings",
            params=developer,
            json={
                "targetUrl": f"{self.api_url}{PREFIX}/webhooks",
                "throttling": {"maxConcurrentRequests": 10},
            },
        ).raise_for_status()
        for name in property_names:
            httpx.post(
                f"{base}/subscriptions",
                params=developer,
                json={"eventType": "contact.propertyChange", "propertyName": name, "active": True},
            ).raise_for_status()

    def launch_backfill(self, job: str, partitions: list[str]) -> str:
        """A backfill of `job` over `partitions`, launched through the webserver as the UI does."""
        data = self.graphql(
            """
            mutation($params: LaunchBackfillParams!) {
              launchPartitionBackfill(backfillParams: $params) {
                __typename
                ... on LaunchBackfillSuccess { backfillId }
                ... on PythonError { message }
                ... on InvalidSubsetError { message }
                ... on PartitionSetNotFoundError { message }
              }
            }""",
            {
                "params": {
                    "selector": {
                        "partitionSetName": f"{job}_partition_set",
                        "repositorySelector": {
                            "repositoryLocationName": LOCATION,
                            "repositoryName": "__repository__",
                        },
                    },
                    "partitionNames": partitions,
                }
            },
        )["launchPartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]

    def backfill_status(self, backfill_id: str) -> str:
        return self.graphql(
            """
            query($id: String!) {
              partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
            }""",
            {"id": backfill_id},
        )["partitionBackfillOrError"]["status"]

    def runs(self, tags: dict[str, str] | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Runs as the webserver lists them (id, job, status, partition, tags, the asset checks selected: None
        for the whole job), newest first."""
        data = self.graphql(
            """
            query($filter: RunsFilter, $limit: Int) {
              runsOrError(filter: $filter, limit: $limit) {
                ... on Runs { results { runId jobName status startTime endTime creationTime
                                        tags { key value } assetCheckSelection { name } } }
              }
            }""",
            {
                "filter": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
                "limit": limit,
            },
        )
        return [
            {**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}}
            for run in data["runsOrError"]["results"]
        ]
