"""Dagster definitions, one folder per area (contacts, webhooks, ...), loaded by `load_from_defs_folder`."""
