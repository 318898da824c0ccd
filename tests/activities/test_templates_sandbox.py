"""The app's timeline event templates, made and kept up to date with its developer credentials: once per
type, reused by name, updated when they differ, remade when deleted, never duplicated by two runs at once,
and a clear error (events wait) without credentials."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES
from hubspot_pipeline.activities.core.templates import TEMPLATES
from hubspot_pipeline.activities.engine import log_activities
from hubspot_pipeline.activities.templates import DeveloperCredentials, ensure_templates
from hubspot_pipeline.db.tables import hubspot_event_templates
from hubspot_pipeline.hubspot import HubSpotAuthError
from hubspot_pipeline.sandbox.testing import SandboxHandle
from tests.activities.builders import add_sequence, sync_contacts
from tests.activities.conftest import Portal, developer_of
from tests.activities.hubspot_side import activity_status, log_rows


def _templates(sandbox: SandboxHandle) -> list[dict]:
    return httpx.get(
        f"{sandbox.base_url}/integrators/timeline/v3/{sandbox.app_id}/event-templates",
        params={"hapikey": sandbox.developer_api_key},
    ).json()["results"]


def _developer_calls(sandbox: SandboxHandle) -> int:
    counters = sandbox.admin.counters()["byEndpoint"]
    return sum(sum(v.values()) for k, v in counters.items() if "event-templates" in k)


def test_templates_are_made_once_then_used_as_stored(
    engine: sa.Engine, sandbox_hubspot: SandboxHandle
) -> None:
    developer = developer_of(sandbox_hubspot)
    ids = ensure_templates(engine, developer, TIMELINE_TYPES)
    made = {t["name"]: t for t in _templates(sandbox_hubspot)}
    assert set(made) == {TEMPLATES[kind].name for kind in TIMELINE_TYPES}
    assert {kind: made[TEMPLATES[kind].name]["id"] for kind in TIMELINE_TYPES} == ids
    assert {t["name"] for t in made["ColdCopy email clicked"]["tokens"]} == {
        "campaign",
        "step",
        "subject",
        "url",
    }
    sandbox_hubspot.admin.reset_counters()

    assert ensure_templates(engine, developer, TIMELINE_TYPES) == ids
    assert _developer_calls(sandbox_hubspot) == 0


def test_a_template_that_differs_is_updated_and_one_made_elsewhere_is_reused(
    engine: sa.Engine, sandbox_hubspot: SandboxHandle
) -> None:
    developer = developer_of(sandbox_hubspot)
    ids = ensure_templates(engine, developer, ["opened", "clicked"])
    # Someone edits a template in the app's settings, and this deployment has not seen the templates before
    # (another deployment of the same app made them).
    url = f"{sandbox_hubspot.base_url}/integrators/timeline/v3/{sandbox_hubspot.app_id}/event-templates"
    edited = {**TEMPLATES["opened"].as_json(), "id": ids["opened"], "headerTemplate": "Opened!"}
    httpx.put(f"{url}/{ids['opened']}", params={"hapikey": developer.api_key}, json=edited).raise_for_status()
    with engine.begin() as conn:
        conn.execute(sa.delete(hubspot_event_templates))

    assert ensure_templates(engine, developer, ["opened", "clicked"]) == ids
    by_name = {t["name"]: t for t in _templates(sandbox_hubspot)}
    assert (
        len(by_name) == 2
        and by_name[TEMPLATES["opened"].name]["headerTemplate"] == TEMPLATES["opened"].header_template
    )


def test_two_runs_starting_together_make_each_template_once(
    engine: sa.Engine, sandbox_hubspot: SandboxHandle
) -> None:
    developer = developer_of(sandbox_hubspot)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: ensure_templates(engine, developer, TIMELINE_TYPES), range(4)))
    assert all(result == results[0] for result in results)
    assert len(_templates(sandbox_hubspot)) == len(TIMELINE_TYPES)


def test_without_developer_credentials_the_run_says_what_to_set_and_events_wait(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    add_sequence(engine, workspace, "wait@example.com", kinds=("opened",))
    sync_contacts(engine, portal.client, workspace)
    no_key = DeveloperCredentials(portal.sandbox.base_url, portal.sandbox.app_id, None)
    with pytest.raises(HubSpotAuthError, match="set HUBSPOT_DEVELOPER_API_KEY"):
        log_activities(engine, portal.client, workspace, developer=no_key)
    assert log_rows(engine, workspace) == [] and activity_status(engine, workspace) == {}


def test_a_template_deleted_in_hubspot_is_made_again_and_its_events_logged(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    first = add_sequence(engine, workspace, "before@example.com", kinds=("opened",))
    sync_contacts(engine, portal.client, workspace)
    log_activities(engine, portal.client, workspace, developer=portal.developer)
    [template] = [t for t in _templates(portal.sandbox) if t["name"] == TEMPLATES["opened"].name]
    url = f"{portal.sandbox.base_url}/integrators/timeline/v3/{portal.sandbox.app_id}/event-templates"
    httpx.delete(f"{url}/{template['id']}", params={"hapikey": portal.developer.api_key}).raise_for_status()
    second = add_sequence(engine, workspace, "after@example.com", kinds=("opened",))
    sync_contacts(engine, portal.client, workspace)

    failed = log_activities(engine, portal.client, workspace, developer=portal.developer)
    assert failed.counts["failed"] == 1 and "does not exist" in failed.error_samples[0]
    logged = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert logged.counts["logged"] == 1
    ids = {e["id"] for e in portal.sandbox.admin.timeline_events(portal.hub_id)}
    assert ids == {str(first.events["opened"]), str(second.events["opened"])}
    assert activity_status(engine, workspace)[str(second.events["opened"])].status == "synced"
