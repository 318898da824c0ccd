"""The REST API: FastAPI app serving the seed's `/api/integrations/hubspot/*` endpoints (`app.py`), API-key
authentication scoped to one workspace (`keys.py`, `deps.py`), the audit log (`audit.py`), webhook ingest
(`webhook_ingest.py`) and the `serve` / `api-key` commands (`cli.py`)."""
