"""The contact sync (and companies): ColdCopy's leads and HubSpot's records kept equal both ways. Three layers,
imported only downwards (engine -> store -> core):

    core/      pure: mappings and transforms, a lead's canonical form (`core.leads.Leads.of`, the one place
               it is made), hashes, what queued webhooks say, the 3-way plan and its stages (ends of pairs,
               pairing and the fast path, the per-field merge, the rows to write). No SQL, no HTTP.
    store/     the PostgreSQL side: settings and mappings, leads, pair state and the retry index, the outbox,
               webhook queue and cursors, and what a run records. SQL only: `core` decides.
    engine.py  the orchestrator: one run in stages (job.py prepares, reads.py and contact_scan.py read both
               sides, push.py writes HubSpot, writes.py records, companies.py associates companies), the
               only layer that talks to HubSpot. properties.py creates the custom properties the mappings
               need; connection.py builds a workspace's HubSpot client; figures.py turns a run into metrics.

Never imports Dagster: `defs/contacts/` is the glue.
"""
