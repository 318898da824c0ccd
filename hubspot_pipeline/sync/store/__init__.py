"""The sync's PostgreSQL store. SQL only: `core` decides, the engine sequences.

    settings.py    a workspace's sync settings and mappings as saved
    leads.py       leads by id or email, or every lead whose digest changed (full resync), by COPY
    state.py       pair state and the retry index
    queues.py      the lead outbox, the webhook queue and the cursors
    records.py     what a run records in its one transaction: leads, pair state, tombstones, conflicts
    workspaces.py  which workspaces sync, and their slugs

Lead writes run under `sync_writer`, so the outbox trigger does not record them (no echo back to HubSpot).
"""
