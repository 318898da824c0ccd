"""API keys and workspace isolation: every endpoint needs a key, a key sees only its own workspace, and a
revoked key stops working. Does not cover the webhook receiver (signature-authenticated, test_webhooks.py)."""

from __future__ import annotations

import sqlalchemy as sa
from api_support import Tenant, url
from fastapi.testclient import TestClient

from hubspot_pipeline.api import keys
from hubspot_pipeline.db.tables import audit_log, workspace_api_keys

AUTHENTICATED = [
    ("GET", "/config", None),
    ("PUT", "/config", {"enabled": False}),
    ("POST", "/sync/contacts", {"dry_run": True}),
    ("GET", "/sync/status", None),
    ("POST", "/privacy/erasures", {"email": "nobody@example.com"}),
]


def test_every_endpoint_refuses_a_request_without_a_key(client: TestClient) -> None:
    for method, path, body in AUTHENTICATED:
        response = client.request(method, url(path), json=body)
        assert response.status_code == 401, (method, path)
        assert "api-key issue" in response.json()["error"]["message"]


def test_an_unknown_or_revoked_key_is_refused(client: TestClient, tenant: Tenant, engine: sa.Engine) -> None:
    assert (
        client.get(url("/config"), headers={"Authorization": "Bearer hpk_00000000_nope"}).status_code == 401
    )
    with engine.begin() as conn:
        assert keys.revoke_key(conn, tenant.workspace_id, tenant.key.split("_")[1]) == 1
    response = client.get(url("/config"), headers=tenant.headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_keys_are_stored_only_as_hashes(engine: sa.Engine, tenant: Tenant) -> None:
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(workspace_api_keys).where(workspace_api_keys.c.workspace_id == tenant.workspace_id)
        ).one()
    assert tenant.key not in {str(value) for value in stored}
    assert stored.key_hash == keys.hash_key(tenant.key)


def test_the_key_also_works_as_an_x_api_key_header(client: TestClient, tenant: Tenant) -> None:
    response = client.get(url("/config"), headers={"X-API-Key": tenant.key})
    assert response.status_code == 200
    assert response.json()["workspace_id"] == str(tenant.workspace_id)


def test_a_key_of_workspace_a_gets_403_or_404_for_everything_of_workspace_b(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    b = str(other_tenant.workspace_id)
    b_request = client.post(url("/sync/contacts"), json={}, headers=other_tenant.headers).json()["id"]
    for method, path, body in AUTHENTICATED:
        by_query = client.request(
            method, url(path), json=body, params={"workspace_id": b}, headers=tenant.headers
        )
        assert by_query.status_code == 403, (method, path)
        assert by_query.json()["error"]["code"] == "wrong_workspace"
        by_header = client.request(
            method, url(path), json=body, headers={**tenant.headers, "X-Workspace-Id": b}
        )
        assert by_header.status_code == 403, (method, path)
    assert client.get(url(f"/sync/requests/{b_request}"), headers=tenant.headers).status_code == 404
    # B's data is untouched by A's calls, and A's own answers never mention B.
    assert client.get(url("/config"), headers=other_tenant.headers).json()["enabled"] is True
    status = client.get(url("/sync/status"), headers=tenant.headers).json()
    assert b not in str(status) and b_request not in str(status)


def test_every_mutating_call_is_audited(client: TestClient, tenant: Tenant, engine: sa.Engine) -> None:
    client.put(url("/config"), json={"conflict_policy": "hubspot_wins"}, headers=tenant.headers)
    request_id = client.post(url("/sync/contacts"), json={"dry_run": True}, headers=tenant.headers).json()[
        "id"
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target, audit_log.c.details)
            .where(audit_log.c.workspace_id == tenant.workspace_id)
            .order_by(audit_log.c.id)
        ).all()
    prefix = tenant.key.split("_")[1]
    assert [(row.actor, row.action) for row in rows] == [
        (f"api-key:{prefix}", "config.update"),
        (f"api-key:{prefix}", "sync.request"),
    ]
    assert rows[0].details == {"changed": {"conflict_policy": "hubspot_wins"}}
    assert rows[1].target == request_id
    assert all(tenant.key not in str(row) for row in rows)
