"""The `hubspot-pipeline sandbox` command turns its flags into options, and the sandbox package never
imports Dagster (the design keeps hubspot/, sync/ and sandbox/ free of it)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from hubspot_pipeline.sandbox.app import SandboxApp
from hubspot_pipeline.sandbox.cli import command


def test_cli_flags_become_sandbox_options(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def fake_run(app: SandboxApp, host: str, port: int, **_: Any) -> None:
        served.update(app=app, host=host, port=port)

    monkeypatch.setattr("uvicorn.run", fake_run)
    result = CliRunner().invoke(
        command,
        [
            "--port",
            "9999",
            "--private-app-token",
            "pat-x",
            "--hub-id",
            "42",
            "--extra-portals",
            "2",
            "--rate-limit-profile",
            "professional",
            "--index-lag",
            "3",
            "--latency-ms",
            "20",
            "--jitter-ms",
            "5",
            "--fault-503",
            "0.1",
            "--fault-drop",
            "0.01",
            "--retry-after",
            "10",
            "--seed",
            "9",
            "--daily-limit",
            "5000",
            "--webhook-duplicates",
            "0.2",
            "--webhook-out-of-order",
            "--access-token-ttl",
            "60",
        ],
    )
    assert result.exit_code == 0, result.output
    sandbox = served["app"].sandbox
    options = sandbox.options
    assert (served["host"], served["port"]) == ("127.0.0.1", 9999)
    assert options.private_app_token == "pat-x" and options.burst_limit() == 190 and options.seed == 9
    assert options.index_lag_seconds == 3 and options.retry_after_seconds == 10
    assert (
        options.faults.latency_ms == 20
        and options.faults.error_503 == 0.1
        and options.faults.drop_connection == 0.01
    )
    assert options.daily_cap() == 5000 and options.access_token_ttl_seconds == 60
    assert options.webhooks.duplicate_probability == 0.2 and options.webhooks.out_of_order is True
    assert sorted(sandbox.portals) == [42, 43, 44]
    assert sandbox.private_tokens["pat-x"] == 42 and sandbox.private_tokens["pat-na1-sandbox-43"] == 43
    assert "pat-na1-sandbox-44" in result.output


def test_the_sandbox_never_imports_dagster() -> None:
    code = (
        "import sys, hubspot_pipeline.sandbox.testing, hubspot_pipeline.sandbox.cli, hubspot_pipeline.sandbox.routes;"
        "hubspot_pipeline.sandbox.app.build_router();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
