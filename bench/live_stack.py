"""The live stack of the latency benchmarks (api_edit_to_lead, activities_latency,
workflows_reply_to_enrollment): the sandbox, the API and Dagster's processes, each in its own session
writing its own log, waited for until they answer and stopped together; and polling for an outcome."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PREFIX = "/api/integrations/hubspot"


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_answering(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def poll(
    what: str, check: Callable[[], object], seconds: float, start: float | None = None, every: float = 0.1
) -> float:
    """Seconds from `start` (default: now) until `check()` is true, checking every `every` seconds."""
    start = time.monotonic() if start is None else start
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def start_sandbox_and_api(
    children: list[subprocess.Popen],
    env: dict[str, str],
    logs: Path,
    log_prefix: str,
    sandbox_port: int,
    api_port: int,
) -> None:
    """The sandbox and the API (added to `children`), once both answer their health checks."""
    children.append(
        spawn(
            [str(BIN / "hubspot-pipeline"), "sandbox", "--port", str(sandbox_port)],
            env,
            logs / f"{log_prefix}_sandbox.log",
        )
    )
    children.append(
        spawn(
            [str(BIN / "hubspot-pipeline"), "serve", "--port", str(api_port)],
            env,
            logs / f"{log_prefix}_api.log",
        )
    )
    wait_until_answering(f"http://127.0.0.1:{sandbox_port}/_sandbox/health")
    wait_until_answering(f"http://127.0.0.1:{api_port}{PREFIX}/health")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child's process group, newest first; SIGKILL to any group with a process still running
    after 30 s. A whole group, not just its leader: the daemon's code server outlives a stopped daemon by minutes
    (it waits for heartbeats) and would use the next benchmark's CPU."""
    for child in reversed(children):
        if _group_alive(child.pid):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        # poll() reaps the leader: a zombie still answers kill(0).
        while child.poll() is None or _group_alive(child.pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
            time.sleep(0.1)
