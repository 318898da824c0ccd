"""The FastAPI application. `create_app()` builds it; `hubspot-pipeline serve` runs it under uvicorn."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse

from hubspot_pipeline.api import unexpected_errors
from hubspot_pipeline.api.docs import install_docs
from hubspot_pipeline.api.errors import ApiError, install_error_handlers
from hubspot_pipeline.api.json_input import unstorable_text_in
from hubspot_pipeline.api.request_limits import RequestLimits
from hubspot_pipeline.api.routes import (
    config,
    mappings,
    monitoring,
    oauth,
    privacy,
    sync,
    webhooks,
    workflows,
)

PREFIX = "/api/integrations/hubspot"

DESCRIPTION = """ColdCopy ↔ HubSpot integration API. Authenticate every call with a workspace API key
(`Authorization: Bearer <key>`), issued with `hubspot-pipeline api-key issue --workspace <id>`; a key sees and
changes only its own workspace. `POST /webhooks` is authenticated by HubSpot's signature instead, and
`GET /callback` by the OAuth `state`; `GET /metrics`, which spans every workspace, by its own token
(METRICS_TOKEN). Errors are `{"error": {"code", "message", "details"}}`."""


def create_app(engine: sa.Engine | None = None) -> FastAPI:
    """The API on `engine` (default: the project database, DATABASE_URL or the embedded server)."""
    if engine is None:
        from hubspot_pipeline.db.connection import get_engine

        engine = get_engine()
    app = FastAPI(
        title="hubspot_pipeline API",
        version="1",
        description=DESCRIPTION,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # install_docs serves Swagger UI from a package, not a CDN
        redoc_url=None,
    )
    app.state.engine = engine
    install_error_handlers(app)
    install_docs(app, PREFIX)

    webhook_path = f"{PREFIX}/webhooks"

    async def storable_body(request: Request) -> None:
        """Every JSON body but HubSpot's deliveries (webhook_ingest answers those its own way): a string
        PostgreSQL cannot store is refused before any endpoint writes it."""
        if request.url.path == webhook_path:
            return
        problem = unstorable_text_in(await request.body())
        if problem is not None:
            raise ApiError(
                422,
                "invalid_request",
                f"The request is invalid: a string in the body {problem}; send text without control "
                "characters or unpaired surrogates.",
            )

    api = APIRouter(prefix=PREFIX, dependencies=[Depends(storable_body)])
    for module in (oauth, config, mappings, sync, webhooks, workflows, monitoring, privacy):
        api.include_router(module.router)

    @api.get("/health", tags=["service"], summary="Liveness and database reachability (no authentication)")
    def health(request: Request) -> dict[str, str]:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    app.include_router(api)
    app.include_router(monitoring.metrics_router)  # /metrics, where Prometheus looks by default

    @app.get("/docs", include_in_schema=False)
    def docs_redirect() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/docs")

    app.add_middleware(RequestLimits, webhook_path=webhook_path)
    unexpected_errors.install(app)  # last, so that it is the outermost of the app's middleware
    return app
