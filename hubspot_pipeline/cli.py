"""`hubspot-pipeline`: the command line. Each area owns its commands; they are imported only when used,
so `hubspot-pipeline migrate` never loads Dagster, the sandbox or the API."""

from __future__ import annotations

import importlib

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
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup)
def main() -> None:
    """Bidirectional sync between ColdCopy and HubSpot, on Dagster."""


if __name__ == "__main__":
    main()
