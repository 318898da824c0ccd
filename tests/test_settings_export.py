"""The one place the project writes the environment (for the processes it starts), and the run-tag rules."""

from __future__ import annotations

import os

import pytest

from hubspot_pipeline.defs.workspaces.tags import trigger_of
from hubspot_pipeline.settings import export_settings, get_settings


def test_export_settings_takes_only_the_projects_variables_and_refreshes_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_API_BASE_URL", "http://127.0.0.1:1")
    get_settings.cache_clear()
    export_settings(HUBSPOT_API_BASE_URL="http://127.0.0.1:2")
    assert str(get_settings().hubspot_api_base_url).rstrip("/") == "http://127.0.0.1:2"
    export_settings(HUBSPOT_API_BASE_URL="http://127.0.0.1:3", keep_existing=True)
    assert os.environ["HUBSPOT_API_BASE_URL"] == "http://127.0.0.1:2"
    with pytest.raises(ValueError, match="not a setting of this project: HOME"):
        export_settings(HOME="/tmp")
    monkeypatch.delenv("HUBSPOT_API_BASE_URL")
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("tags", "trigger"),
    [
        ({"hubspot_pipeline/trigger": "webhooks", "dagster/sensor_name": "webhook_queue_sensor"}, "webhooks"),
        ({"dagster/backfill": "abc", "dagster/from_ui": "true"}, "backfill"),
        ({"dagster/schedule_name": "contacts_sync_schedule"}, "schedule"),
        ({"dagster/from_ui": "true"}, "ui"),
        ({}, "code"),
    ],
)
def test_a_run_says_what_launched_it(tags: dict[str, str], trigger: str) -> None:
    assert trigger_of(tags) == trigger
