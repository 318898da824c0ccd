"""The failures a person running a command can fix, said in a line or two: a database that cannot be reached,
a HubSpot URL that does not answer. Which setting the value came from, the password hidden, what to check.
The traceback only with `--verbose`."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from hubspot_pipeline.settings import Settings


def hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _database_cause(error: BaseException) -> BaseException | None:
    import psycopg
    import sqlalchemy.exc

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, psycopg.OperationalError):
            return seen
        if isinstance(seen, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
            return seen.orig if isinstance(seen.orig, BaseException) else seen
        seen = seen.__cause__ or seen.__context__
    return None


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no reason given"
    return line.removeprefix("connection failed: ").rstrip(".")


def explain(error: BaseException, settings: Settings) -> str | None:
    """One or two lines for a failure a person can fix from configuration; None for any other error."""
    from hubspot_pipeline.hubspot import HubSpotSyncError

    cause = _database_cause(error)
    if cause is not None:
        if settings.database_url:
            where = f"PostgreSQL at {hide_password(settings.database_url)} (from DATABASE_URL)"
            check = (
                "Check the host, port, database name and credentials in DATABASE_URL and that the server is "
                "running and reachable from here; unset DATABASE_URL to use the embedded PostgreSQL."
            )
        else:
            where = f"the embedded PostgreSQL in {settings.data_dir / 'postgres'} (DATABASE_URL is unset)"
            check = "Check that the folder is writable and `hubspot-pipeline db stop` stops a stale server."
        reason = _first_line(str(cause))
        if settings.database_url and urlsplit(settings.database_url).password:
            reason = reason.replace(str(urlsplit(settings.database_url).password), "***")
        return f"Cannot connect to {where}: {reason}.\n{check}"
    if isinstance(error, HubSpotSyncError) and error.category == "NETWORK":
        if settings.hubspot_api_base_url:
            where = f"{str(settings.hubspot_api_base_url).rstrip('/')} (from HUBSPOT_API_BASE_URL)"
            check = (
                "Check the URL and that it answers from here (production: https://api.hubapi.com); unset "
                "HUBSPOT_API_BASE_URL to use the local sandbox that `hubspot-pipeline dev` starts."
            )
        else:
            where = "the local sandbox (HUBSPOT_API_BASE_URL is unset)"
            check = "Start it with `hubspot-pipeline dev` or `hubspot-pipeline sandbox`, or set HUBSPOT_API_BASE_URL."
        return f"Cannot reach HubSpot at {where}: {error.message}.\n{check}"
    return None
