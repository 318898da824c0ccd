"""GET/PUT /config: defaults, partial updates, validation messages, and the connection summary (which never
carries a token)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_support import Tenant, make_tenant, url
from fastapi.testclient import TestClient

from hubspot_pipeline.db.tables import hubspot_sync_config


def test_a_new_workspace_reads_the_defaults_and_its_connection(client: TestClient, tenant: Tenant) -> None:
    body = client.get(url("/config"), headers=tenant.headers).json()
    assert body["enabled"] is True
    assert body["conflict_policy"] == "latest"
    assert "schedule_cron" not in body  # removed in migration 0004: it was stored but never used
    assert body["connection"]["connected"] is True
    assert body["connection"]["hub_id"] == str(tenant.hub_id)
    assert "gAAAAA" not in str(body)  # neither ciphertext nor any token


def test_an_unconnected_workspace_says_so(client: TestClient, engine: sa.Engine) -> None:
    lonely = make_tenant(engine, connected=False)
    connection = client.get(url("/config"), headers=lonely.headers).json()["connection"]
    assert connection == {
        "connected": False,
        "status": "disconnected",
        "error": None,
        "hub_id": None,
        "scopes": [],
        "access_token_expires_at": None,
        "missing_scopes": [],
        "reconnect_for": [],
    }


def test_put_changes_only_what_it_names(client: TestClient, tenant: Tenant, engine: sa.Engine) -> None:
    first = client.put(url("/config"), json={"conflict_policy": "coldcopy_wins"}, headers=tenant.headers)
    assert first.status_code == 200
    second = client.put(
        url("/config"),
        json={"sync_activities": False},
        headers=tenant.headers,
    )
    body = second.json()
    assert (body["conflict_policy"], body["sync_activities"], body["sync_contacts"]) == (
        "coldcopy_wins",
        False,
        True,
    )
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(hubspot_sync_config).where(hubspot_sync_config.c.workspace_id == tenant.workspace_id)
        ).one()
    assert stored.conflict_policy == "coldcopy_wins" and stored.sync_activities is False


def test_invalid_settings_are_refused_with_every_problem_named(client: TestClient, tenant: Tenant) -> None:
    response = client.put(
        url("/config"),
        json={"conflict_policy": "newest", "on_hubspot_archive": "shred", "schedule_cron": "* * * * *"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    fields = {problem["field"] for problem in error["details"]}
    # schedule_cron is refused like any unknown setting: the API has no per-workspace schedule.
    assert fields == {"conflict_policy", "on_hubspot_archive", "schedule_cron"}
    assert client.get(url("/config"), headers=tenant.headers).json()["conflict_policy"] == "latest"


@pytest.mark.parametrize(
    "cron", ["*/" + "9" * 5000 + " * * * *", "1" * 450 + " * * * *", " ".join(["0"] * 5) + " " * 600]
)
def test_an_overlong_cron_is_refused_with_a_message_a_person_can_act_on(client, tenant: Tenant, cron) -> None:
    # Regression: a 5,000-digit step reached int(), whose refusal ("Exceeds the limit (4300 digits) ...
    # use sys.set_int_max_str_digits()") was the answer; the field had no length limit at all. Since migration
    # 0004 schedule_cron is no setting at all: refused as unknown, whatever its length, without being parsed.
    response = client.put(url("/config"), json={"schedule_cron": cron}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "schedule_cron" in message and "sys." not in message and "digits" not in message
