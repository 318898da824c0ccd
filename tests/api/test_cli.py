"""`hubspot-pipeline api-key issue|list|revoke` and `hubspot-pipeline serve` (a real uvicorn process)."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from api_support import free_port, new_workspace, start_api, stop_api, url
from click.testing import CliRunner

from hubspot_pipeline.cli import main
from hubspot_pipeline.db.tables import audit_log


def test_a_key_is_printed_once_listed_by_prefix_and_revoked(engine: sa.Engine, database_url: str) -> None:
    workspace = new_workspace(engine)
    runner = CliRunner()
    issued = runner.invoke(main, ["api-key", "issue", str(workspace), "--name", "crm-sync"])
    assert issued.exit_code == 0, issued.output
    key = issued.stdout.strip()
    prefix = key.split("_")[1]
    listed = runner.invoke(main, ["api-key", "list", "--workspace", str(workspace)])
    assert prefix in listed.stdout and "crm-sync" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout
    revoked = runner.invoke(main, ["api-key", "revoke", "--workspace", str(workspace), prefix])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.stdout
    again = runner.invoke(main, ["api-key", "revoke", "--workspace", str(workspace), prefix])
    assert again.exit_code != 0 and "api-key list" in again.output
    with engine.connect() as conn:
        actions = conn.execute(
            sa.select(audit_log.c.action)
            .where(audit_log.c.workspace_id == workspace)
            .order_by(audit_log.c.id)
        ).scalars()
        assert list(actions) == ["api_key.issue", "api_key.revoke"]


def test_issuing_for_an_unknown_workspace_says_so(database_url: str) -> None:
    result = CliRunner().invoke(main, ["api-key", "issue", "--workspace", str(uuid.uuid4())])
    assert result.exit_code != 0
    assert "no workspace with id" in result.output
    result = CliRunner().invoke(main, ["api-key", "issue"])
    assert result.exit_code != 0
    assert "name the workspace" in result.output


def test_serve_runs_the_api_with_its_openapi_docs(database_url: str) -> None:
    port = free_port()
    process = start_api(port)
    try:
        spec = httpx.get(f"http://127.0.0.1:{port}{url('/openapi.json')}", timeout=5).json()
        assert url("/webhooks") in spec["paths"] and url("/sync/status") in spec["paths"]
        unauthenticated = httpx.get(f"http://127.0.0.1:{port}{url('/config')}", timeout=5)
        assert unauthenticated.status_code == 401
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5, follow_redirects=True)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
    finally:
        stop_api(process)


def test_the_docs_page_loads_swagger_ui_from_the_api_itself_not_a_cdn(client) -> None:
    # Regression: /docs rendered blank offline, its script and styles coming from a CDN.
    import re

    page = client.get("/docs", follow_redirects=True)
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls = re.findall(r"""https?://[^\s"'<>]+""", page.text)
    assert sources and urls == []
    for source in sources:
        assert source.startswith("/"), source
        assert client.get(source).status_code == 200, source
    assert "swagger-ui-bundle.js" in page.text
