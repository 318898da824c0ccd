"""Pure rules of workflow triggers: no I/O, no network, no Dagster."""
