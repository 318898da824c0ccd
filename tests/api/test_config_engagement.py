"""PUT /config's engagement settings: weights (partial updates keep the other kinds), half-life and the default
high-engagement threshold; bad values are refused with the setting named and nothing stored. The scores they
produce are tested in tests/dbt/."""

from __future__ import annotations

import sqlalchemy as sa
from api_support import Tenant, url
from fastapi.testclient import TestClient

from hubspot_pipeline.db.tables import hubspot_sync_config
from hubspot_pipeline.scoring.weights import DEFAULT_WEIGHTS


def test_a_new_workspace_reads_the_default_scoring(client: TestClient, tenant: Tenant) -> None:
    body = client.get(url("/config"), headers=tenant.headers).json()
    assert body["engagement_weights"] == DEFAULT_WEIGHTS
    assert (body["engagement_half_life_days"], body["engagement_high_threshold"]) == (14, 60)


def test_weights_change_kind_by_kind_and_are_stored(
    client: TestClient, tenant: Tenant, engine: sa.Engine
) -> None:
    first = client.put(url("/config"), json={"engagement_weights": {"open": 1}}, headers=tenant.headers)
    assert first.status_code == 200, first.text
    second = client.put(
        url("/config"),
        json={
            "engagement_weights": {"click": 8.5},
            "engagement_half_life_days": 7,
            "engagement_high_threshold": 75,
        },
        headers=tenant.headers,
    )
    body = second.json()
    assert body["engagement_weights"] == {**DEFAULT_WEIGHTS, "open": 1, "click": 8.5}
    assert (body["engagement_half_life_days"], body["engagement_high_threshold"]) == (7, 75)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(hubspot_sync_config).where(hubspot_sync_config.c.workspace_id == tenant.workspace_id)
        ).one()
    assert stored.engagement_weights == {**DEFAULT_WEIGHTS, "open": 1, "click": 8.5}
    assert (stored.engagement_half_life_days, stored.engagement_high_threshold) == (7, 75)


def test_bad_scoring_settings_are_refused_naming_each_and_nothing_changes(
    client: TestClient, tenant: Tenant
) -> None:
    for body, words in [
        ({"engagement_weights": {"opens": 3}}, "unknown kind(s) opens"),
        ({"engagement_weights": {"open": "3"}}, "must be a number"),
        ({"engagement_weights": {"reply": 1e9}}, "within -1000..1000"),
        ({"engagement_weights": ["open", 3]}, "engagement_weights"),
        ({"engagement_half_life_days": 0}, "above 0"),
        ({"engagement_half_life_days": "NaN"}, "engagement_half_life_days"),
        ({"engagement_high_threshold": 0}, "from 1 to 100"),
        ({"engagement_high_threshold": 50.5}, "from 1 to 100"),
    ]:
        response = client.put(url("/config"), json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert {problem["field"] for problem in error["details"]} == set(body), error
        assert words in response.text, (words, response.text)
    after = client.get(url("/config"), headers=tenant.headers).json()
    assert after["engagement_weights"] == DEFAULT_WEIGHTS and after["engagement_high_threshold"] == 60
