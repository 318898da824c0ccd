"""`hubspot-pipeline dev`: the whole local stack in one terminal.

The database (embedded unless DATABASE_URL is set), migrated; the HubSpot sandbox on :8765 with its
webhooks pointed at the API; the API on :8000; and `dagster dev` (UI on :3000) with its storage in the
same PostgreSQL. Ctrl-C stops everything, the embedded database last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click

from hubspot_pipeline.db.commands import _settings_or_exit
from hubspot_pipeline.settings import PROJECT_ROOT

SANDBOX_PORT = 8765
API_PORT = 8000
UI_PORT = 3000
SANDBOX_TOKEN = "pat-local-demo"


def _spawn(name: str, args: list[str]) -> subprocess.Popen:
    click.echo(f"starting {name}: {' '.join(args)}")
    return subprocess.Popen(args, cwd=PROJECT_ROOT, start_new_session=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command()
@click.option("--ui-port", default=UI_PORT, show_default=True)
@click.option(
    "--no-sandbox", is_flag=True, help="Do not start the sandbox (HUBSPOT_API_BASE_URL points elsewhere)."
)
@click.option("--no-api", is_flag=True, help="Do not start the API service.")
def dev(ui_port: int, no_sandbox: bool, no_api: bool) -> None:
    """Run the database, sandbox, API and Dagster UI together until Ctrl-C."""
    settings = _settings_or_exit()
    from hubspot_pipeline.dagster_home import prepare_dagster_home
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url

    if not settings.database_url:
        from hubspot_pipeline.db.embedded import start_embedded

        os.environ["DATABASE_URL"] = start_embedded(settings.data_dir, keep_running=True)
    database_url()
    migrate.upgrade()
    home = prepare_dagster_home(settings)
    click.echo(f"database ready; Dagster home {home}")

    bin_dir = os.path.dirname(sys.executable)
    children: list[subprocess.Popen] = []
    if not no_sandbox and not settings.hubspot_api_base_url:
        os.environ["HUBSPOT_API_BASE_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}"
        children.append(
            _spawn(
                "sandbox",
                [
                    f"{bin_dir}/hubspot-pipeline", "sandbox", "--port", str(SANDBOX_PORT),
                    "--private-app-token", SANDBOX_TOKEN,
                    "--webhook-url", f"http://127.0.0.1:{API_PORT}/api/integrations/hubspot/webhooks",
                ],
            )
        )  # fmt: skip
    if not no_api:
        children.append(_spawn("API", [f"{bin_dir}/hubspot-pipeline", "serve", "--port", str(API_PORT)]))
    children.append(
        _spawn(
            "dagster",
            [f"{bin_dir}/dagster", "dev", "-w", "workspace.yaml", "-p", str(ui_port), "-h", "127.0.0.1"],
        )
    )
    click.echo(f"Dagster UI: http://127.0.0.1:{ui_port}   API docs: http://127.0.0.1:{API_PORT}/docs")
    # A SIGTERM (from a supervisor or `timeout`) stops the stack as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        click.echo("a process exited; stopping the others", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        if not settings.database_url:
            from hubspot_pipeline.db.embedded import stop_embedded

            stop_embedded(settings.data_dir)
