"""What a trigger must pass before it is saved, against the workspace's HubSpot portal and the network:
its contact properties exist and can be written, its workflows exist (v4 flows, mapped to the legacy v2 id
that enrolment takes), and its custom-action URLs point where they may and do not redirect.

Every problem is listed, each naming the property, workflow or URL and what to do."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.api.errors import ApiError
from hubspot_pipeline.api.hubspot_access import workspace_client
from hubspot_pipeline.db.tables import hubspot_integrations
from hubspot_pipeline.workflows.core.model import EnrollAction, TriggerDefinition
from hubspot_pipeline.workflows.custom_action import (
    sender_from_settings,
    url_problem,
    workspace_signing_secret,
)

AUTOMATION_SCOPE = "automation"
CONTACT_OBJECT = "0-1"


def missing_automation_scope(engine: sa.Engine, workspace_id: uuid.UUID) -> bool:
    """A workspace connected (over OAuth) before triggers existed has not granted `automation`."""
    with engine.connect() as conn:
        scopes = conn.execute(
            sa.select(hubspot_integrations.c.scopes).where(
                hubspot_integrations.c.workspace_id == workspace_id,
                hubspot_integrations.c.refresh_token.is_not(None),
            )
        ).scalar_one_or_none()
    return scopes is not None and len(scopes) > 0 and AUTOMATION_SCOPE not in scopes


def _hubspot_problems(definition: TriggerDefinition, engine: sa.Engine, workspace_id: uuid.UUID) -> list[str]:
    enrolls = definition.enroll_actions()
    properties = definition.property_names()
    if not enrolls and not properties:
        return []
    if enrolls and missing_automation_scope(engine, workspace_id):
        raise ApiError(
            409,
            "needs_reconnect",
            "Enrolling contacts in workflows needs HubSpot's `automation` scope, which this workspace's connection "
            "(made before workflow triggers existed) has not granted: reconnect HubSpot with GET "
            "/api/integrations/hubspot/auth, then save the trigger again. The sync keeps working meanwhile.",
        )
    problems: list[str] = []
    with workspace_client(engine, workspace_id) as client:
        if properties:
            known = {p.get("name"): p for p in client.list_properties("contacts")}
            for name in sorted(properties):
                found = known.get(name)
                if found is None:
                    problems.append(
                        f"contact property {name!r} does not exist in the HubSpot portal; create it in HubSpot "
                        "(or fix the name; GET /properties lists them)"
                    )
                elif found.get("calculated") or (found.get("modificationMetadata") or {}).get(
                    "readOnlyValue"
                ):
                    problems.append(f"contact property {name!r} is read-only in HubSpot; choose another")
        if enrolls:
            flows = {str(f.get("id")): f for f in client.list_flows()}
            by_flow = dict(client.map_workflow_ids(flow_ids=[a.flow_id for a in enrolls if a.flow_id]))
            by_workflow = {
                w: f
                for f, w in client.map_workflow_ids(
                    workflow_ids=[a.workflow_id for a in enrolls if a.workflow_id]
                )
            }
            for action in enrolls:
                problems.extend(_enroll_problems(action, flows, by_flow, by_workflow))
    return problems


def _enroll_problems(
    action: EnrollAction, flows: dict[str, Any], by_flow: dict[str, str], by_workflow: dict[str, str]
) -> list[str]:
    if action.flow_id:
        workflow_id = by_flow.get(action.flow_id)
        flow_id: str | None = action.flow_id
        if action.flow_id not in flows or workflow_id is None:
            return [
                f"workflow (flow) {action.flow_id} does not exist in the HubSpot portal; copy its id from HubSpot"
            ]
        if action.workflow_id and action.workflow_id != workflow_id:
            return [
                f"flow {action.flow_id} is workflow {workflow_id}, not {action.workflow_id}; give one of the two"
            ]
    else:
        assert action.workflow_id is not None
        flow_id = by_workflow.get(action.workflow_id)
        workflow_id = action.workflow_id
        if flow_id is None or flow_id not in flows:
            return [
                f"workflow {action.workflow_id} does not exist in the HubSpot portal; copy its id from HubSpot"
            ]
    flow = flows[flow_id]
    if str(flow.get("objectTypeId", CONTACT_OBJECT)) != CONTACT_OBJECT:
        return [f"workflow {workflow_id} is not contact-based; only contact workflows can enrol a contact"]
    action.flow_id, action.workflow_id = flow_id, workflow_id  # both kept: the v2 id is what enrolment takes
    return []


def _url_problems(definition: TriggerDefinition, workspace_id: uuid.UUID) -> list[str]:
    urls = definition.custom_urls()
    if not urls:
        return []
    problems = []
    with sender_from_settings(attempts=1) as sender:
        for url in urls:
            problem = url_problem(url, allow_private=sender.allow_private)
            if problem is not None:
                problems.append(f"custom action URL {url[:200]!r} {problem}")
                continue
            # A signed ping: a URL that redirects is refused now rather than failing every delivery later.
            ping = sender.send(
                url,
                {"type": "ping", "workspace_id": str(workspace_id)},
                idempotency_key=f"ping:{uuid.uuid4()}",
                secret=workspace_signing_secret(workspace_id),
            )
            if ping.status is not None and 300 <= ping.status < 400:
                problems.append(f"custom action URL {url[:200]!r}: {ping.error}")
    return problems


def trigger_problems(definition: TriggerDefinition, engine: sa.Engine, workspace_id: uuid.UUID) -> list[str]:
    """Every problem of the trigger (HubSpot's first, then the URLs'); empty when it can be saved. Fills in
    each enroll action's flow and legacy workflow ids."""
    return _hubspot_problems(definition, engine, workspace_id) + _url_problems(definition, workspace_id)
