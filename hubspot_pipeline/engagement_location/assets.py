"""The engagement assets: ColdCopy's tables the dbt models read (external, maintained by ColdCopy and the main
location), the dbt models, and `engagement/lead_engagement`, their publication. All per workspace (the
`workspace` partitions of the main location): materializing a workspace runs `dbt build` on its rows only
(the `workspace_id` var), then publishes its changed scores."""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import partition_workspace
from hubspot_pipeline.engagement_location.project import manifest_path
from hubspot_pipeline.scoring.store.dbt_build import (
    DBT_PROJECT_DIR,
    SCORES_MODEL,
    WITHOUT_SOURCE_SCANS,
    dbt_env,
    dbt_executable,
    dbt_vars,
)
from hubspot_pipeline.scoring.store.publish import publish

GROUP = "engagement"
SCORES_KEY = dg.AssetKey([GROUP, SCORES_MODEL])
PUBLISHED_KEY = dg.AssetKey([GROUP, "lead_engagement"])

SOURCES = [
    dg.AssetSpec(
        dg.AssetKey(["coldcopy", "email_events"]),
        description="ColdCopy's email events (sent, opened, clicked, replied, bounced, unsubscribed), as it "
        "records them. Read by the activity logging and the engagement models.",
        group_name="coldcopy",
        kinds={"postgres"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["coldcopy", "email_messages"]),
        description="ColdCopy's messages, sent and received (replies); engagement/reply_intents decides each "
        "reply's intent when it is stored.",
        group_name="coldcopy",
        kinds={"postgres"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["coldcopy", "leads"]),
        description="ColdCopy's leads.",
        group_name="coldcopy",
        kinds={"postgres"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["coldcopy", "workspaces"]),
        description="ColdCopy's workspaces.",
        group_name="coldcopy",
        kinds={"postgres"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["coldcopy", "sync_config"]),
        description="Each workspace's sync settings, the engagement weights and half-life among them (PUT /config).",
        group_name="coldcopy",
        kinds={"postgres"},
    ),
]


class EngagementTranslator(DagsterDbtTranslator):
    """Models are `engagement/<model>` in the `engagement` group; sources keep the keys their meta names."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
        if node is not None and node["resource_type"] == "model":
            return spec.replace_attributes(key=dg.AssetKey([GROUP, node["name"]]), group_name=GROUP)
        return spec


@dbt_assets(
    manifest=manifest_path(),
    partitions_def=WORKSPACE_PARTITIONS,
    dagster_dbt_translator=EngagementTranslator(),
    name="engagement_models",
)
def engagement_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, sync_settings: SyncSettingsResource
) -> Iterator[Any]:
    """`dbt build` of the workspace's rows: staged events, messages and leads, each lead's engagement and
    the workspace's daily engagement, with every dbt test."""
    with sync_settings.engine().connect() as conn:
        workspace = partition_workspace(conn, context.partition_key)
    os.environ.update(dbt_env(sync_settings.database_url))  # the profile's connection (dbt/profiles.yml)
    args = ["build", *WITHOUT_SOURCE_SCANS, "--vars", dbt_vars_json(workspace.id)]
    yield from dbt.cli(args, context=context).stream()


def dbt_vars_json(workspace_id: Any) -> str:
    import json

    return json.dumps(dbt_vars(workspace_id))


@dg.asset(
    key=PUBLISHED_KEY,
    deps=[SCORES_KEY],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds={"python", "postgres"},
    description=(
        "Each lead's published engagement (score, last engaged time, last reply's intent, 30-day counts): the "
        "rows of lead_engagement_scores that changed are written to lead_engagement, each into the lead "
        "outbox (so the contact sync pushes them to HubSpot), with score_changed and threshold_crossed "
        "engagement events for the workflow triggers. Unchanged scores write nothing."
    ),
)
def lead_engagement(
    context: dg.AssetExecutionContext, sync_settings: SyncSettingsResource
) -> dg.MaterializeResult:
    engine = sync_settings.engine()
    with engine.begin() as conn:
        workspace = partition_workspace(conn, context.partition_key)
        done = publish(conn, workspace.id)
    return dg.MaterializeResult(
        metadata={"changed": done.changed, "score_changes": done.score_changes, "crossings": done.crossings}
    )


def dbt_resource() -> DbtCliResource:
    # The venv's dbt, found beside its Python: PATH may not hold the venv (dagster dev started by its path).
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
    )
