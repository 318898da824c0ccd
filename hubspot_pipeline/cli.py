"""`hubspot-pipeline`: the command line. Each area owns its commands; they are imported only when used,
so `hubspot-pipeline migrate` never loads Dagster, the sandbox or the API.

A failure a person can fix from configuration (a database that cannot be reached, a HubSpot URL that does
not answer) is said in a line or two; `--verbose`, anywhere on the line, shows the traceback (and, for
`demo`, Dagster's run logs)."""

from __future__ import annotations

import importlib
import sys

import click

# command name -> "module:attribute" of a click command
COMMANDS = {
    "migrate": "hubspot_pipeline.db.commands:migrate",
    "db": "hubspot_pipeline.db.commands:db",
    "demo-data": "hubspot_pipeline.demo.commands:demo_data",
    "demo": "hubspot_pipeline.demo.commands:demo",
    "dev": "hubspot_pipeline.dev:dev",
    "sandbox": "hubspot_pipeline.sandbox.cli:command",
    "serve": "hubspot_pipeline.api.cli:serve",
    "api-key": "hubspot_pipeline.api.cli:api_key",
    "rotate-keys": "hubspot_pipeline.hubspot.cli:rotate_keys",
    "sync": "hubspot_pipeline.defs.contacts.cli:sync",
    "activities": "hubspot_pipeline.activities.cli:activities",
    "engagement": "hubspot_pipeline.scoring.cli:engagement",
    "privacy": "hubspot_pipeline.privacy.cli:privacy",
}
VERBOSE = "--verbose"


def verbose() -> bool:
    """Whether `--verbose` was given (for commands that print more with it)."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("verbose"))


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `hubspot-pipeline demo --verbose` reads as naturally as `hubspot-pipeline --verbose demo`.
        if VERBOSE in args:
            args = [VERBOSE, *(arg for arg in args if arg != VERBOSE)]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if ctx.params.get("verbose"):
                raise
            message = _explain(error)
            if message is None:
                raise
            click.echo(f"Error: {message}", err=True)
            sys.exit(1)


def _explain(error: Exception) -> str | None:
    from hubspot_pipeline.cli_errors import explain
    from hubspot_pipeline.settings import SettingsError, get_settings

    try:
        return explain(error, get_settings())
    except SettingsError:
        return None


@click.group(cls=LazyGroup)
@click.option(VERBOSE, "verbose", is_flag=True, help="Show tracebacks, and Dagster's run logs in `demo`.")
def main(verbose: bool) -> None:
    """Bidirectional sync between ColdCopy and HubSpot, on Dagster."""


if __name__ == "__main__":
    main()
