"""Four processes sharing one portal's budget through PostgreSQL never exceed it: each makes as many calls as
it can until it has made its share of four windows' worth (400 general calls, 160 searches, so the budget is
the bottleneck whatever the machine's load), and the sandbox's own rolling windows show no 10-second window over 100 general calls and no second over
5 searches, and it never had to answer 429. General calls and searches share one portal, as in a sync run;
the sandbox keeps each budget's windows apart."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle

WORKER = Path(__file__).with_name("budget_worker.py")
PROCESSES = 4
GENERAL_CALLS = 100  # per process: 400 in all, four 10-second windows' worth
SEARCH_CALLS = 40  # per process: 160 in all, 32 one-second windows' worth


@pytest.mark.slow
def test_four_processes_sharing_one_portal_budget_never_exceed_it(
    hubspot_sandbox: SandboxHandle, database_url: str
) -> None:
    admin = hubspot_sandbox.admin
    hub, token = hubspot_sandbox.hub_id, hubspot_sandbox.private_app_token
    run = uuid.uuid4().hex[:8]
    workers = []
    for _ in range(PROCESSES):
        for mode, calls in (("general", GENERAL_CALLS), ("search", SEARCH_CALLS)):
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(WORKER),
                        "--base-url",
                        hubspot_sandbox.base_url,
                        "--token",
                        token,
                        "--database-url",
                        database_url,
                        "--portal-key",
                        f"hub:{hub}:{run}",
                        "--mode",
                        mode,
                        "--calls",
                        str(calls),
                        "--per-ten-seconds",
                        "100",
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
    outputs = [json.loads(worker.communicate(timeout=600)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)

    general = admin.rate_windows(hub_id=hub, window_ms=10_000, limit=100)
    searches = admin.rate_windows(hub_id=hub, window_ms=1_000, limit=5, budget="search")
    print(f"general: {general}\nsearch: {searches}")  # the figures, with `pytest -s`
    # Every process did its share of the work...
    assert [sum(calls.values()) for calls in outputs] == [GENERAL_CALLS, SEARCH_CALLS] * PROCESSES
    assert general["attempts"] >= PROCESSES * GENERAL_CALLS
    assert searches["attempts"] >= PROCESSES * SEARCH_CALLS
    # ...and no window, as HubSpot counts them, went over.
    assert general["attemptsOverLimit"] == 0 and general["maxAttemptsInWindow"] <= 100
    assert searches["attemptsOverLimit"] == 0 and searches["maxAttemptsInWindow"] <= 5
    assert admin.counters(hub)["byStatus"].get("429", 0) == 0
