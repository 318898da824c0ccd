"""`hubspot-pipeline dev`: the whole local stack in one terminal.

The database (embedded unless DATABASE_URL is set), migrated; the HubSpot sandbox on :8765 with its
webhooks pointed at the API; the API on :8000; and `dagster dev` (UI on :3000) with its storage in the
same PostgreSQL. Dagster's output goes to a log file in the data folder; the console shows its warnings,
errors and finished runs (`--verbose`: everything). Once the first sync has made a contact, a ready-to-paste
command edits it as a HubSpot user would. Ctrl-C stops everything, the embedded database last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import click

from hubspot_pipeline.cli import verbose
from hubspot_pipeline.db.commands import _settings_or_exit
from hubspot_pipeline.settings import PROJECT_ROOT, export_settings

SANDBOX_PORT = 8765
API_PORT = 8000
UI_PORT = 3000
SANDBOX_TOKEN = "pat-local-demo"
SANDBOX_HUB_ID = 1234567
SANDBOX_DEVELOPER_KEY = "sandbox-developer-key"
STARTUP_SECONDS = 60
EXAMPLE_WAIT_SECONDS = 300  # for the first full sync to make a contact to edit


def _wait_for(url: str, children: list[subprocess.Popen]) -> None:
    import httpx

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException(f"a process exited while waiting for {url}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise click.ClickException(f"{url} did not answer within {STARTUP_SECONDS} s")


def _wire_sandbox(settings, base_url: str) -> dict:
    """Webhooks of the sandbox's app go to the API; every workspace gets a sandbox portal, connected by OAuth."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.demo.sandbox_setup import (
        configure_webhooks,
        connect_all_workspaces,
        request_fresh_syncs,
    )

    key = (
        settings.hubspot_developer_api_key.get_secret_value() if settings.hubspot_developer_api_key else None
    )
    target = f"http://127.0.0.1:{API_PORT}/api/integrations/hubspot/webhooks"
    configure_webhooks(base_url, settings.hubspot_app_id, key or SANDBOX_DEVELOPER_KEY, target)
    connected = connect_all_workspaces(get_engine(), base_url, SANDBOX_HUB_ID)
    request_fresh_syncs(get_engine(), list(connected))
    click.echo(f"sandbox webhooks -> {target}; {len(connected)} workspace(s) connected to sandbox portals")
    slugs = _slugs(list(connected))
    for workspace_id, hub_id in connected.items():
        click.echo(f"  workspace {slugs.get(workspace_id, workspace_id)}: portal {hub_id} (full sync queued)")
    return connected


def _slugs(workspace_ids: list) -> dict:
    """Each workspace's slug: the name its partitions and runs carry in the Dagster UI."""
    import sqlalchemy as sa

    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.tables import workspaces

    query = sa.select(workspaces.c.id, workspaces.c.slug).where(workspaces.c.id.in_(workspace_ids))
    with get_engine().connect() as conn:
        return dict(conn.execute(query).tuples().all())


def _edit_example(sandbox_url: str, connected: dict) -> str | None:
    """A ready-to-paste edit of a synced contact, once the first full sync has made one; None until then."""
    import sqlalchemy as sa

    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.tables import hubspot_sync_status, workspaces

    status = hubspot_sync_status.c
    with get_engine().connect() as conn:
        row = conn.execute(
            sa.select(status.workspace_id, status.entity_id, status.hubspot_id, workspaces.c.slug)
            .join(workspaces, workspaces.c.id == status.workspace_id)
            .where(
                status.workspace_id.in_(list(connected)),
                status.entity_type == "contact",
                status.status == "synced",
                status.hubspot_id.is_not(None),
            )
            .order_by(status.entity_id)
            .limit(1)
        ).first()
    if row is None:
        return None
    hub_id = connected[row.workspace_id]
    return (
        "Edit a contact as a HubSpot user would, and watch its lead follow "
        "(webhook -> API -> webhook_queue_sensor -> contacts_sync_job):\n"
        f"  curl -s -X POST {sandbox_url}/_sandbox/portals/{hub_id}/objects/contacts/{row.hubspot_id}/ui-edit "
        '-H \'content-type: application/json\' -d \'{"properties": {"jobtitle": "Chief Revenue Officer"}}\'\n'
        f"  lead {row.entity_id} of workspace {row.slug} takes the new job title within seconds; "
        f"the run shows in the Dagster UI under Runs."
    )


def _show_dagster(child: subprocess.Popen, log_path, ui_url: str, verbose: bool) -> threading.Thread:
    """Copy Dagster's output to its log file, and what a person acts on to the console."""
    from hubspot_pipeline.dev_console import ConsoleFilter

    console = ConsoleFilter(ui_url)

    def pump() -> None:
        assert child.stdout is not None
        with open(log_path, "a", encoding="utf-8") as log:
            for raw in child.stdout:
                log.write(raw)
                log.flush()
                shown = raw.rstrip("\n") if verbose else console.shown(raw)
                if shown is not None:
                    click.echo(shown)

    thread = threading.Thread(target=pump, name="dagster-output", daemon=True)
    thread.start()
    return thread


def _spawn(name: str, args: list[str], *, piped: bool = False) -> subprocess.Popen:
    click.echo(f"starting {name}: {' '.join(args)}")
    if not piped:
        return subprocess.Popen(args, cwd=PROJECT_ROOT, start_new_session=True)
    return subprocess.Popen(
        args,
        cwd=PROJECT_ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )


def _ensure_some_workspaces() -> None:
    """A fresh database gets the demo workspaces, so the stack has something to sync."""
    import sqlalchemy as sa

    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.tables import workspaces

    with get_engine().connect() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(workspaces)):
            return
    from hubspot_pipeline.demo.commands import load_demo_data

    report = load_demo_data(leads=300, workspaces=3, seed=7)
    click.echo(f"empty database: loaded {report.leads} demo leads in {report.workspaces} workspaces")


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

        export_settings(DATABASE_URL=start_embedded(settings.data_dir, keep_running=True))
    database_url()
    migrate.upgrade()
    _ensure_some_workspaces()
    home = prepare_dagster_home(settings)
    click.echo(f"database ready; Dagster home {home}")

    bin_dir = os.path.dirname(sys.executable)
    children: list[subprocess.Popen] = []
    sandbox_url = None
    if not no_sandbox and not settings.hubspot_api_base_url:
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        export_settings(HUBSPOT_API_BASE_URL=sandbox_url)
        children.append(
            _spawn(
                "sandbox",
                [
                    f"{bin_dir}/hubspot-pipeline", "sandbox", "--port", str(SANDBOX_PORT),
                    "--private-app-token", SANDBOX_TOKEN, "--hub-id", str(SANDBOX_HUB_ID),
                ],
            )
        )  # fmt: skip
    if not no_api:
        children.append(_spawn("API", [f"{bin_dir}/hubspot-pipeline", "serve", "--port", str(API_PORT)]))
    dagster = _spawn(
        "dagster",
        [f"{bin_dir}/dagster", "dev", "-w", "workspace.yaml", "-p", str(ui_port), "-h", "127.0.0.1"],
        piped=True,
    )
    children.append(dagster)
    log_path = settings.data_dir / "logs" / "dagster-dev.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    ui_url = f"http://127.0.0.1:{ui_port}"
    _show_dagster(dagster, log_path, ui_url, verbose())
    click.echo(f"Dagster's output: {log_path} (the console shows warnings, errors and finished runs)")
    # A SIGTERM (from a supervisor or `timeout`) stops the stack as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        connected: dict = {}
        if sandbox_url:
            _wait_for(f"{sandbox_url}/_sandbox/clock", children)
            if not no_api:
                _wait_for(f"http://127.0.0.1:{API_PORT}/docs", children)
            connected = _wire_sandbox(settings, sandbox_url)
        click.echo(f"Dagster UI: {ui_url}   API docs: http://127.0.0.1:{API_PORT}/docs")
        example_due = time.monotonic() + EXAMPLE_WAIT_SECONDS if connected else 0.0
        while all(child.poll() is None for child in children):
            if example_due and time.monotonic() < example_due:
                example = _edit_example(sandbox_url or "", connected)
                if example:
                    click.echo(example)
                    example_due = 0.0
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
