"""`hubspot-pipeline serve` (the API under uvicorn) and `hubspot-pipeline api-key issue|revoke|list`."""

from __future__ import annotations

import uuid

import click

from hubspot_pipeline.settings import SettingsError, get_settings


def _settings():
    try:
        return get_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@click.option("--host", default=None, help="Interface to bind (default: API_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: API_PORT, 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log each request line. Off by default: OAuth callback URLs carry one-time codes.",
)
def serve(host: str | None, port: int | None, workers: int, access_log: bool) -> None:
    """Run the REST API (OpenAPI docs at /api/integrations/hubspot/docs)."""
    settings = _settings()
    import uvicorn

    from hubspot_pipeline.api.request_limits import MAX_REQUEST_HEAD_BYTES
    from hubspot_pipeline.db.connection import database_url

    database_url()  # start (or attach to) the embedded PostgreSQL once, before the workers fork
    _check_database()
    from hubspot_pipeline.privacy.keys import hash_secret

    try:
        hash_secret(settings)  # PRIVACY_HASH_SECRET, required with a real HubSpot app: say so at start
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    uvicorn.run(
        "hubspot_pipeline.api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        # h11 bounds the request head it buffers; httptools, the default, does not (request_limits.py).
        http="h11",
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
    )


def _check_database() -> None:
    """Fail at start, saying why, rather than answer every request with an error."""
    import sqlalchemy as sa

    from hubspot_pipeline.db.connection import get_engine

    with get_engine().connect() as conn:
        conn.execute(sa.text("SELECT 1"))


@click.group(name="api-key")
def api_key() -> None:
    """Workspace API keys for the REST API (stored hashed; a key is shown once, when issued)."""


def _engine():
    _settings()
    from hubspot_pipeline.db.connection import get_engine

    return get_engine()


workspace_option = click.option(
    "--workspace", "workspace_id", type=click.UUID, required=True, help="Workspace id."
)
workspace_argument = click.argument("workspace", type=click.UUID, required=False)
optional_workspace_option = click.option("--workspace", "workspace_id", type=click.UUID, help="Workspace id.")


def _one_workspace(workspace: uuid.UUID | None, workspace_id: uuid.UUID | None) -> uuid.UUID:
    if workspace is None and workspace_id is None:
        raise click.UsageError("name the workspace: `api-key issue <workspace id>` (or --workspace <id>)")
    if workspace is not None and workspace_id is not None and workspace != workspace_id:
        raise click.UsageError("two different workspaces given; name one")
    chosen = workspace or workspace_id
    assert chosen is not None
    return chosen


@api_key.command()
@workspace_argument
@optional_workspace_option
@click.option("--name", default="default", show_default=True, help="A label to tell keys apart.")
def issue(workspace: uuid.UUID | None, workspace_id: uuid.UUID | None, name: str) -> None:
    """Issue a key for a workspace and print it (this once)."""
    from hubspot_pipeline.api import audit, keys

    workspace_id = _one_workspace(workspace, workspace_id)
    with _engine().begin() as conn:
        try:
            issued = keys.issue_key(conn, workspace_id, name)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
        audit.record(
            conn,
            workspace_id=workspace_id,
            actor="cli",
            action="api_key.issue",
            target=str(issued.id),
            details={},
        )
    click.echo(issued.key)
    click.echo(
        f"key {issued.key.split('_')[1]} issued for workspace {workspace_id}; store it now, it is not kept.",
        err=True,
    )


@api_key.command()
@workspace_option
@click.argument("key_prefix_or_id")
def revoke(workspace_id: uuid.UUID, key_prefix_or_id: str) -> None:
    """Revoke a key of the workspace, by its prefix (see `list`) or id."""
    from hubspot_pipeline.api import audit, keys

    with _engine().begin() as conn:
        count = keys.revoke_key(conn, workspace_id, key_prefix_or_id)
        if count == 0:
            raise click.ClickException(
                f"no active key {key_prefix_or_id!r} in workspace {workspace_id}; see `hubspot-pipeline api-key list`"
            )
        audit.record(
            conn,
            workspace_id=workspace_id,
            actor="cli",
            action="api_key.revoke",
            target=key_prefix_or_id,
            details={},
        )
    click.echo(f"revoked {count} key(s)")


@api_key.command(name="list")
@workspace_argument
@optional_workspace_option
def list_(workspace: uuid.UUID | None, workspace_id: uuid.UUID | None) -> None:
    """List the workspace's keys (prefixes only)."""
    from hubspot_pipeline.api import keys

    workspace_id = _one_workspace(workspace, workspace_id)
    with _engine().connect() as conn:
        rows = keys.list_keys(conn, workspace_id)
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
        click.echo(f"{row.key_prefix}  {row.name:<20} {state:<24} {used}  id={row.id}")
    if not rows:
        click.echo(f"no keys for workspace {workspace_id}", err=True)
