"""What a person sees when the database or HubSpot cannot be reached: one or two lines naming what failed,
the setting it came from (password hidden) and what to check; the traceback only with `--verbose`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.cli_errors import hide_password
from hubspot_pipeline.db.tables import workspaces

PASSWORD = "s3cret-pw"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "hubspot_pipeline.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("command", "host"),
    [
        (["migrate"], "no-such-host.invalid"),
        (["serve", "--port", "0"], "127.0.0.1"),
        (["sync", str(uuid.UUID(int=1))], "127.0.0.1"),
        (["demo", "--leads", "10", "--workspaces", "1"], "no-such-host.invalid"),
    ],
)
def test_a_database_that_cannot_be_reached_is_named_in_two_lines(
    command: list[str], host: str, tmp_path
) -> None:
    url = f"postgresql://app:{PASSWORD}@{host}:{_closed_port()}/db"
    result = _run(command, DATABASE_URL=url, HUBSPOT_PIPELINE_DATA_DIR=str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2, result.stderr
    assert lines[0].startswith("Error: Cannot connect to PostgreSQL at postgresql://app:***@")
    assert "(from DATABASE_URL)" in lines[0] and "DATABASE_URL" in lines[1]
    assert PASSWORD not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_verbose_shows_the_traceback(tmp_path) -> None:
    url = f"postgresql://app:{PASSWORD}@127.0.0.1:{_closed_port()}/db"
    result = _run(["migrate", "--verbose"], DATABASE_URL=url, HUBSPOT_PIPELINE_DATA_DIR=str(tmp_path))
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_a_hubspot_url_that_does_not_answer_is_named(database_url: str, engine: sa.Engine) -> None:
    with engine.begin() as conn:
        workspace_id = conn.execute(
            sa.insert(workspaces)
            .values(name="Unreachable", slug=f"ws-{uuid.uuid4().hex[:10]}")
            .returning(workspaces.c.id)
        ).scalar_one()
    base_url = f"http://127.0.0.1:{_closed_port()}"
    result = _run(
        ["sync", str(workspace_id), "--private-app-token", "pat-test-token"],
        DATABASE_URL=database_url,
        HUBSPOT_API_BASE_URL=base_url,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2, result.stderr
    assert lines[0].startswith(f"Error: Cannot reach HubSpot at {base_url} (from HUBSPOT_API_BASE_URL)")
    assert "Traceback" not in result.stderr


def test_a_password_is_hidden_wherever_the_url_puts_it() -> None:
    assert hide_password("postgresql://u:p%40ss@db.example:6543/x?sslmode=require") == (
        "postgresql://u:***@db.example:6543/x?sslmode=require"
    )
    assert hide_password("postgresql://db.example/x") == "postgresql://db.example/x"
