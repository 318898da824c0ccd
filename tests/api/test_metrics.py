"""GET /metrics: its own bearer token (attackers first), figures from PostgreSQL whatever process recorded
them, the same answer from every worker of `serve --workers 2`; GET /alerts and the open alerts of
GET /sync/status, each scoped to the caller's workspace."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from api_support import Tenant, free_port, start_api, stop_api, url
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hubspot_pipeline.monitoring import Figures, record_now
from hubspot_pipeline.monitoring.alerts import reconcile
from hubspot_pipeline.monitoring.catalogue import RECORDS_SYNCED
from hubspot_pipeline.monitoring.rules import Alert
from hubspot_pipeline.settings import get_settings

TOKEN = "metrics-token-" + uuid.uuid4().hex


@pytest.fixture
def metrics_token() -> Iterator[str]:
    previous = os.environ.get("METRICS_TOKEN")
    os.environ["METRICS_TOKEN"] = TOKEN
    get_settings.cache_clear()
    try:
        yield TOKEN
    finally:
        if previous is None:
            os.environ.pop("METRICS_TOKEN", None)
        else:
            os.environ["METRICS_TOKEN"] = previous
        get_settings.cache_clear()


def _value(text: str, name: str, default: float | None = None, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    if default is not None:
        return default
    raise AssertionError(f"{name}{labels} is not in /metrics")


def test_metrics_without_a_configured_token_refuses_every_scrape(client: TestClient) -> None:
    os.environ.pop("METRICS_TOKEN", None)
    get_settings.cache_clear()
    response = client.get("/metrics", headers={"Authorization": "Bearer anything-at-all-long"})
    assert response.status_code == 404
    assert "METRICS_TOKEN" in response.json()["error"]["message"]


def test_metrics_refuses_no_token_a_wrong_one_and_a_workspace_api_key(
    client: TestClient, tenant: Tenant, metrics_token: str
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer " + metrics_token[:-1]},
        {"Authorization": "Bearer " + metrics_token + "x"},
        {"Authorization": "Basic " + metrics_token},
        tenant.headers,  # a workspace key sees one workspace; /metrics spans them all
        {"X-API-Key": tenant.key},
    ):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert "text/plain" not in response.headers["content-type"]


def test_metrics_exports_what_another_process_recorded_in_postgresql(
    client: TestClient, engine: sa.Engine, metrics_token: str
) -> None:
    headers = {"Authorization": f"Bearer {metrics_token}"}
    before = _value(
        client.get("/metrics", headers=headers).text,
        "hubspot_pipeline_records_synced_total",
        0.0,
        object_type="company",
        direction="to_hubspot",
    )
    figures = Figures()
    figures.count(RECORDS_SYNCED, 7, object_type="company", direction="to_hubspot")
    record_now(engine, figures)
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = _value(
        response.text, "hubspot_pipeline_records_synced_total", object_type="company", direction="to_hubspot"
    )
    assert after == before + 7


def test_queue_gauges_count_what_waits_for_syncing_workspaces(
    client: TestClient, engine: sa.Engine, tenant: Tenant, metrics_token: str
) -> None:
    from hubspot_pipeline.db.tables import leads, webhook_events

    headers = {"Authorization": f"Bearer {metrics_token}"}
    before = client.get("/metrics", headers=headers).text
    with engine.begin() as conn:
        conn.execute(
            sa.insert(webhook_events).values(
                received_at=sa.func.now() - sa.text("interval '2 minutes'"),
                portal_id=tenant.hub_id,
                workspace_id=tenant.workspace_id,
                subscription_id=1,
                event_id=uuid.uuid4().int % 10**9,
                object_id=1,
                occurred_at=1,
                subscription_type="contact.propertyChange",
                payload={},
            )
        )
        conn.execute(sa.insert(leads).values(workspace_id=tenant.workspace_id, email="gauge@example.com"))
    after = client.get("/metrics", headers=headers).text
    for name in ("hubspot_pipeline_webhook_queue_depth", "hubspot_pipeline_outbox_depth"):
        assert _value(after, name) == _value(before, name) + 1
    assert _value(after, "hubspot_pipeline_webhook_queue_oldest_age_seconds") >= 120


def test_every_worker_of_the_api_answers_the_same_figures(engine: sa.Engine, database_url: str) -> None:
    port = free_port()
    process = start_api(port, "--workers", "2", env={"METRICS_TOKEN": TOKEN})
    try:
        figures = Figures()
        figures.count(RECORDS_SYNCED, 5, object_type="contact", direction="from_hubspot")
        record_now(engine, figures)
        with engine.connect() as conn:
            expected = conn.execute(
                sa.text(
                    "SELECT value FROM metric_counters WHERE series = 'hubspot_pipeline_records_synced' "
                    'AND labels = \'{"object_type": "contact", "direction": "from_hubspot"}\'::jsonb'
                )
            ).scalar_one()
        seen = set()
        # New connections each time: the kernel spreads them over both workers.
        for _ in range(12):
            text = httpx.get(
                f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
            ).text
            seen.add(
                _value(
                    text,
                    "hubspot_pipeline_records_synced_total",
                    object_type="contact",
                    direction="from_hubspot",
                )
            )
        assert seen == {expected}
    finally:
        stop_api(process)


def _alert(tenant: Tenant, rule: str) -> Alert:
    return Alert(
        f"{rule}:{tenant.workspace_id}", rule, "warning", tenant.workspace_id, f"test {rule}", {"count": 1}
    )


def test_alerts_and_sync_status_show_only_the_callers_workspace_alerts(
    client: TestClient, engine: sa.Engine, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        # Only this test's alerts are passed: the others of the session database are resolved, which is
        # what an evaluation that no longer finds them would do too.
        reconcile(conn, [_alert(tenant, "error_rate"), _alert(other_tenant, "cursor_lag")], now)
    mine = client.get(url("/alerts"), headers=tenant.headers).json()
    assert [a["rule"] for a in mine["alerts"]] == ["error_rate"]
    assert mine["alerts"][0]["status"] == "firing" and mine["alerts"][0]["details"] == {"count": 1}
    theirs = client.get(url("/alerts"), headers=other_tenant.headers).json()
    assert [a["rule"] for a in theirs["alerts"]] == ["cursor_lag"]
    status = client.get(url("/sync/status"), headers=tenant.headers).json()
    assert [a["key"] for a in status["open_alerts"]] == [f"error_rate:{tenant.workspace_id}"]
    # Naming another workspace is refused, as on every workspace-scoped route.
    refused = client.get(
        url("/alerts"), params={"workspace_id": str(other_tenant.workspace_id)}, headers=tenant.headers
    )
    assert refused.status_code == 403
    with engine.begin() as conn:
        reconcile(conn, [], datetime.now(UTC))
    resolved = client.get(url("/alerts"), params={"status": "resolved"}, headers=tenant.headers).json()
    assert [a["rule"] for a in resolved["alerts"]] == ["error_rate"]
    assert client.get(url("/alerts"), headers=tenant.headers).json()["alerts"] == []
