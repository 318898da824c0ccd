"""The API's docs page, rendering offline: Swagger UI's script, styles and icon are served by the API itself
from the `swagger-ui-bundle-v2` package, never loaded from a CDN (FastAPI's default), so /docs works on a
machine without internet access and leaks no visit to a third party."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles


def install_docs(app: FastAPI, prefix: str) -> None:
    """Serve Swagger UI at `{prefix}/docs`, its assets under `{prefix}/docs-assets`."""
    from swagger_ui_bundle import swagger_ui_path

    assets = f"{prefix}/docs-assets"
    app.mount(assets, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")
    openapi_url = app.openapi_url or f"{prefix}/openapi.json"

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - docs",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )
