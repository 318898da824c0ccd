"""The `engagement` code location (dbt through dagster-dbt) beside the main one: it loads, its assets are
partitioned by workspace, the lineage runs from ColdCopy's email events through the dbt models to HubSpot
contacts across both locations, the main location never imports dagster-dbt, and materializing a workspace
runs dbt build and publishes its scores; loading the main location compiles none of the reply-intent vocabulary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa
from fresh_process import python_output

from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from tests.activities.builders import add_event, add_lead, add_message


@pytest.fixture(scope="module")
def engagement() -> dg.Definitions:
    from hubspot_pipeline.engagement_location.definitions import defs

    definitions = defs()
    dg.Definitions.validate_loadable(definitions)
    return definitions


def test_the_main_location_never_imports_dagster_dbt() -> None:
    # Regression: round 1 loaded dagster-dbt in every run process (1.2 s of a 3.1 s import).
    script = (
        "import sys; from hubspot_pipeline.definitions import defs; defs(); "
        "print(sorted(m for m in sys.modules if m.startswith(('dagster_dbt', 'dbt'))))"
    )
    output = python_output(script)
    assert output.strip() == "[]"


def test_loading_the_main_location_compiles_no_reply_phrase_until_a_reply_is_classified() -> None:
    # Regression: every run process (a contact sync's too) compiled the intent vocabulary when
    # defs/engagement imported it, 78 ms of a webhook run's start under load; only classifying needs it.
    script = (
        "from hubspot_pipeline.definitions import defs; defs(); "
        "from hubspot_pipeline.scoring import phrases; "
        "from hubspot_pipeline.scoring.intent import classify_reply; "
        "from hubspot_pipeline.scoring.phrase_match import PhraseSet; "
        "sets = [s for s in vars(phrases).values() if isinstance(s, PhraseSet)]; "
        "compiled = lambda: sum('_patterns' in vars(s) for s in sets); "
        "loaded = compiled(); "
        "decision = classify_reply(subject='Re: hello', text='Please unsubscribe me from this list.'); "
        "print(len(sets), loaded, compiled() > 0, decision.intent)"
    )
    output = python_output(script)
    assert output.split() == ["8", "0", "True", "unsubscribe_request"]


def test_workspace_yaml_loads_both_locations() -> None:
    import yaml

    from hubspot_pipeline.settings import PROJECT_ROOT

    loaded = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    modules = {
        entry["python_module"]["location_name"]: entry["python_module"]["module_name"]
        for entry in loaded["load_from"]
    }
    assert modules == {
        "hubspot_pipeline": "hubspot_pipeline.definitions",
        "engagement": "hubspot_pipeline.engagement_location.definitions",
    }


def test_the_lineage_runs_from_email_events_through_dbt_to_hubspot_contacts(
    engagement: dg.Definitions,
) -> None:
    from hubspot_pipeline.definitions import defs as main_defs

    main = main_defs()
    # As the UI draws it: asset keys are global across code locations.
    parents: dict[str, set[str]] = {}
    for definitions in (main, engagement):
        graph = definitions.resolve_asset_graph()
        for key in graph.get_all_asset_keys():
            if graph.get(key).is_materializable or key.to_user_string() not in parents:
                parents[key.to_user_string()] = {p.to_user_string() for p in graph.get(key).parent_keys}

    def reaches(source: str, target: str) -> list[str] | None:
        children: dict[str, set[str]] = {}
        for child, ups in parents.items():
            for up in ups:
                children.setdefault(up, set()).add(child)
        paths = [[source]]
        while paths:
            path = paths.pop()
            if path[-1] == target:
                return path
            paths += [[*path, c] for c in sorted(children.get(path[-1], ())) if c not in path]
        return None

    path = reaches("coldcopy/email_events", "contacts/pushed_contacts")
    assert path is not None
    assert path[:4] == [
        "coldcopy/email_events",
        "engagement/stg_email_events",
        "engagement/lead_engagement_scores",
        "engagement/lead_engagement",
    ]
    assert "contacts/leads" in path
    assert "engagement/stg_email_messages" in {p for p in parents["engagement/lead_engagement_scores"]}
    assert parents["engagement/stg_email_messages"] == {"engagement/reply_intents"}
    assert parents["engagement/workspace_daily_engagement"] == {
        "engagement/stg_email_events",
        "engagement/stg_email_messages",
    }


def test_engagement_assets_are_partitioned_by_workspace_and_described(engagement: dg.Definitions) -> None:
    graph = engagement.resolve_asset_graph()
    materializable = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
    assert len(materializable) == 7  # four staging models, two marts, the publication
    for key in materializable:
        assert graph.get(key).partitions_def == WORKSPACE_PARTITIONS, key
        assert graph.get(key).description, key
    repository = engagement.get_repository_def()
    assert all(s.description for s in repository.schedule_defs)
    assert engagement.resolve_job_def("engagement_job").description


def test_materializing_a_workspace_builds_its_models_and_publishes_its_scores(
    engagement: dg.Definitions, engine: sa.Engine, database_url: str, workspace_id: uuid.UUID
) -> None:
    from hubspot_pipeline.db.tables import lead_engagement, workspaces
    from hubspot_pipeline.engagement_location.assets import dbt_resource, engagement_models
    from hubspot_pipeline.engagement_location.assets import lead_engagement as lead_engagement_asset
    from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents

    email = f"keen-{uuid.uuid4().hex[:6]}@example.com"
    lead = add_lead(engine, workspace_id, email)
    now = datetime.now(UTC)
    reply, _ = add_message(
        engine, workspace_id, lead, email, direction="received", sent_at=now, text="Interested!"
    )
    add_event(engine, workspace_id, lead, "opened", now - timedelta(hours=1))
    add_event(engine, workspace_id, lead, "replied", now, message_id=reply)
    decide_all_pending_intents(engine, workspace_id=workspace_id)
    with engine.connect() as conn:
        slug = conn.execute(sa.select(workspaces.c.slug).where(workspaces.c.id == workspace_id)).scalar_one()

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(WORKSPACE_PARTITIONS.name, [slug])
        result = dg.materialize(
            [engagement_models, lead_engagement_asset],
            partition_key=slug,
            instance=instance,
            resources={
                "dbt": dbt_resource(),
                "sync_settings": SyncSettingsResource(database_url=database_url),
            },
        )
        assert result.success
        keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert {"engagement/lead_engagement_scores", "engagement/lead_engagement"} <= keys
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks)  # the dbt tests, as Dagster asset checks
    with engine.connect() as conn:
        published = conn.execute(sa.select(lead_engagement).where(lead_engagement.c.lead_id == lead)).one()
    assert published.score > 0 and published.last_reply_intent == "interested"
