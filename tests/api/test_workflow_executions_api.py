"""GET /workflows/executions: a workspace's executions, newest first, in pages joined by an opaque cursor,
filtered by trigger and status. Attacker's input first: another workspace's executions and triggers never
show, and bad cursors, limits and filters are 422s that say what was wrong. The executions themselves are
made by tests/api/test_workflows_api.py and tests/workflows/; here they are rows of the table."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_support import Tenant, url
from fastapi.testclient import TestClient

from hubspot_pipeline.db.tables import hubspot_workflow_executions
from hubspot_pipeline.workflows.core.model import TriggerDefinition
from hubspot_pipeline.workflows.store import triggers

EXECUTIONS = url("/workflows/executions")


def _trigger(engine: sa.Engine, tenant: Tenant, name: str = "Clicked") -> uuid.UUID:
    definition = TriggerDefinition.model_validate(
        {"name": name, "event_type": "email_clicked", "actions": [{"type": "enroll", "workflow_id": "1"}]}
    )
    with engine.begin() as conn:
        return triggers.create(conn, tenant.workspace_id, definition).id


def _executions(
    engine: sa.Engine, tenant: Tenant, trigger_id: uuid.UUID, statuses: list[str], after: int = 0
) -> list[uuid.UUID]:
    """One execution per status, a second apart, oldest first, `after` seconds into the day; their ids."""
    start = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=after)
    with engine.begin() as conn:
        return list(
            conn.execute(
                sa.insert(hubspot_workflow_executions).returning(hubspot_workflow_executions.c.id),
                [
                    {
                        "workspace_id": tenant.workspace_id,
                        "trigger_id": trigger_id,
                        "event_id": f"e{n}",
                        "event_type": "email_clicked",
                        "event_key": f"email:{uuid.uuid4()}",
                        "status": status,
                        "created_at": start + timedelta(seconds=n),
                    }
                    for n, status in enumerate(statuses)
                ],
            ).scalars()
        )


def _pages(client: TestClient, tenant: Tenant, **params: object) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(EXECUTIONS, params=query, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["executions"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


# -- attacker's input first ----------------------------------------------------------------------------------
def test_another_workspace_s_executions_never_show_by_filter_or_cursor(
    client: TestClient, engine: sa.Engine, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = _trigger(engine, other_tenant)
    _executions(engine, other_tenant, theirs, ["success", "failed", "pending"])
    mine = _trigger(engine, tenant)
    [own] = _executions(engine, tenant, mine, ["success"])
    assert [e["id"] for page in _pages(client, tenant) for e in page] == [str(own)]
    assert _pages(client, tenant, trigger_id=str(theirs)) == [[]]
    # A cursor taken from their pages is only a position: it still lists this workspace's rows alone.
    their_cursor = client.get(EXECUTIONS, params={"limit": 1}, headers=other_tenant.headers).json()
    assert their_cursor["next_cursor"] is not None
    listed = client.get(
        EXECUTIONS, params={"cursor": their_cursor["next_cursor"]}, headers=tenant.headers
    ).json()
    assert {e["id"] for e in listed["executions"]} <= {str(own)}


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"t": 1}').decode(),
        base64.urlsafe_b64encode(b'["yesterday", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b'["2026-11-01T00:00:00+00:00", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b'["2026-11-01T00:00:00", "0172b3aa-e68b-4cc5-8100-b258a7cf1a3b"]').decode(),
        "A" * 5000,
    ],
)
def test_a_cursor_this_endpoint_did_not_give_is_a_422_saying_so(
    client: TestClient, tenant: Tenant, cursor: str
) -> None:
    response = client.get(EXECUTIONS, params={"cursor": cursor}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert "cursor" in response.text


@pytest.mark.parametrize("limit", ["0", "-1", "501", str(10**20), "1e3", "ten"])
def test_a_limit_outside_one_to_500_is_a_422(client: TestClient, tenant: Tenant, limit: str) -> None:
    response = client.get(EXECUTIONS, params={"limit": limit}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert "limit" in response.text


@pytest.mark.parametrize(("name", "value"), [("status", "running"), ("trigger_id", "1 OR 1=1")])
def test_a_filter_outside_its_vocabulary_is_a_422(
    client: TestClient, tenant: Tenant, name: str, value: str
) -> None:
    response = client.get(EXECUTIONS, params={name: value}, headers=tenant.headers)
    assert response.status_code == 422 and name in response.text


def test_without_a_key_nothing_is_listed(client: TestClient) -> None:
    assert client.get(EXECUTIONS).status_code == 401


# -- behaviour -------------------------------------------------------------------------------------------
def test_pages_list_every_execution_once_newest_first_filtered_by_trigger_and_status(
    client: TestClient, engine: sa.Engine, tenant: Tenant
) -> None:
    clicked, opened = _trigger(engine, tenant, "Clicked"), _trigger(engine, tenant, "Opened")
    ids = _executions(engine, tenant, clicked, ["success", "failed", "success", "pending", "success"])
    [other] = _executions(engine, tenant, opened, ["success"], after=60)  # the newest
    pages = _pages(client, tenant, limit=2, trigger_id=str(clicked))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e["id"] for p in pages for e in p] == [str(i) for i in reversed(ids)]
    assert {e["trigger_name"] for p in pages for e in p} == {"Clicked"}
    succeeded = [e["id"] for p in _pages(client, tenant, status="success", limit=500) for e in p]
    assert succeeded == [str(other), str(ids[4]), str(ids[2]), str(ids[0])]
    failed = _pages(client, tenant, status="failed", trigger_id=str(clicked))
    assert [[e["id"] for e in p] for p in failed] == [[str(ids[1])]]
