"""Workflows: the v4 flow listing and reading, the flow id <-> workflow id mappings, and the legacy v2 contact
enrollment (POST/DELETE → 204), the only direct "enroll" API HubSpot has, with the read of a contact's current
enrollments. Flows are created through /_sandbox (HubSpot's UI).

Undocumented by HubSpot, chosen here (README, "Choices"): an unknown workflow or contact is a 404
OBJECT_NOT_FOUND (`enrollment_missing_status=412` answers 412 instead, as older integrations report);
re-enrolling a contact that is still enrolled is a 204 that changes nothing."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.batch_results import batch_error, batch_reply
from hubspot_pipeline.sandbox.errors import ApiError, envelope, resource_not_found, validation_error
from hubspot_pipeline.sandbox.lookup import find_record
from hubspot_pipeline.sandbox.object_types import CONTACTS
from hubspot_pipeline.sandbox.portal import Enrollment, Flow
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.timeutil import iso_ms

SCOPES = ("automation",)


def _listing(flow: Flow) -> dict[str, Any]:
    return {
        "id": flow.id,
        "isEnabled": flow.is_enabled,
        "flowType": "WORKFLOW",
        "name": flow.name,
        "objectTypeId": flow.object_type_id,
        "revisionId": flow.revision_id,
        "createdAt": iso_ms(flow.created_ms),
        "updatedAt": iso_ms(flow.updated_ms),
    }


async def list_flows(context: RequestContext) -> Reply:
    limit = context.query.limit(100, 100)
    after = context.query.text("after")
    flows = sorted(context.portal.flows.values(), key=lambda flow: int(flow.id) if flow.id.isdigit() else 0)
    if after:
        flows = [
            flow for flow in flows if flow.id.isdigit() and after.isdigit() and int(flow.id) > int(after)
        ]
    body: dict[str, Any] = {"results": [_listing(flow) for flow in flows[:limit]]}
    if len(flows) > limit:
        body["paging"] = {"next": {"after": flows[limit - 1].id}}
    return Reply(200, body)


async def get_flow(context: RequestContext) -> Reply:
    flow = context.portal.flows.get(context.params["flowId"])
    if flow is None:
        raise resource_not_found(f"Flow {context.params['flowId']} does not exist.")
    body = _listing(flow)
    # The parts of a contact flow the sandbox does not model are present and empty, as for a new flow.
    body.update(
        {
            "type": "CONTACT_FLOW",
            "actions": [],
            "blockedDates": [],
            "canEnrollFromSalesforce": False,
            "crmObjectCreationStatus": "COMPLETE",
            "customProperties": {},
            "dataSources": [],
            "nextAvailableActionId": "1",
            "suppressionListIds": [],
            "timeWindows": [],
        }
    )
    return Reply(200, body)


def _workflow_and_contact(context: RequestContext) -> tuple[Flow, Any]:
    raw_id = context.params["workflowId"]
    flow = context.portal.flow_by_workflow_id(int(raw_id)) if raw_id.isdigit() else None
    missing = context.sandbox.options.enrollment_missing_status
    if flow is None:
        raise ApiError(missing, envelope(f"Workflow {raw_id} does not exist.", "OBJECT_NOT_FOUND"))
    if flow.object_type_id != CONTACTS.type_id:
        raise validation_error(
            f"Workflow {raw_id} is not contact-based; only contacts can be enrolled this way."
        )
    email = context.params["email"]
    contact = find_record(context.portal, CONTACTS, email, "email")
    if contact is None:
        raise ApiError(missing, envelope(f"Contact {email} does not exist.", "OBJECT_NOT_FOUND"))
    return flow, contact


async def enroll(context: RequestContext) -> Reply:
    flow, contact = _workflow_and_contact(context)
    active = [
        e
        for e in context.portal.enrollments
        if e.workflow_id == flow.workflow_id and e.contact_id == contact.id and e.active
    ]
    if not active:
        context.portal.enrollments.append(
            Enrollment(flow.workflow_id, contact.properties.get("email", ""), contact.id, context.now_ms)
        )
    return Reply(204)


async def unenroll(context: RequestContext) -> Reply:
    flow, contact = _workflow_and_contact(context)
    for enrollment in context.portal.enrollments:
        if enrollment.workflow_id == flow.workflow_id and enrollment.contact_id == contact.id:
            enrollment.active = False
    return Reply(204)


async def current_enrollments(context: RequestContext) -> Reply:
    """The workflows a contact (by its id, the legacy `vid`) is enrolled in now."""
    raw = context.params["vid"]
    contact = context.portal.store(CONTACTS).get(int(raw)) if raw.isdigit() else None
    if contact is None:
        raise ApiError(404, envelope(f"Contact {raw} does not exist.", "OBJECT_NOT_FOUND"))
    workflows = sorted(
        {e.workflow_id for e in context.portal.enrollments if e.contact_id == contact.id and e.active}
    )
    results = []
    for workflow_id in workflows:
        flow = context.portal.flow_by_workflow_id(workflow_id)
        results.append({"id": workflow_id, "name": flow.name if flow else "", "type": "DRIP_DELAY"})
    return Reply(200, results)


async def map_workflow_ids(context: RequestContext) -> Reply:
    """v4 flow ids <-> the v2 workflow ids enrollment paths take (HubSpot's new UI shows the flow id)."""
    inputs = (await context.json_object()).get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("Invalid input JSON: `inputs` must be an array.")
    portal = context.portal
    results, missing = [], []
    for item in inputs:
        kind = str(item.get("type", "")) if isinstance(item, dict) else ""
        if kind == "FLOW_ID":
            flow = portal.flows.get(str(item.get("flowId")))
            wanted = str(item.get("flowId"))
        elif kind == "WORKFLOW_ID":
            raw = str(item.get("workflowId", ""))
            flow = portal.flow_by_workflow_id(int(raw)) if raw.isdigit() else None
            wanted = raw
        else:
            raise validation_error(
                "Every input needs type FLOW_ID with flowId, or WORKFLOW_ID with workflowId"
            )
        if flow is None or not flow.id.isdigit():
            missing.append(wanted)
        else:
            results.append({"flowId": int(flow.id), "workflowId": flow.workflow_id})
    errors = (
        [batch_error("OBJECT_NOT_FOUND", "Some flows or workflows were not found.", {"ids": missing})]
        if missing
        else []
    )
    return batch_reply(results, errors, context.now_ms, context.now_ms)


def register(router: Router) -> None:
    router.add("GET", "/automation/v4/flows", list_flows, scopes=SCOPES)
    router.add("GET", "/automation/v4/flows/{flowId}", get_flow, scopes=SCOPES)
    router.add("POST", "/automation/v4/workflow-id-mappings/batch/read", map_workflow_ids, scopes=SCOPES)
    enrollment = "/automation/v2/workflows/{workflowId}/enrollments/contacts/{email}"
    router.add("POST", enrollment, enroll, scopes=SCOPES)
    router.add("DELETE", enrollment, unenroll, scopes=SCOPES)
    router.add(
        "GET", "/automation/v2/workflows/enrollments/contacts/{vid}", current_enrollments, scopes=SCOPES
    )
