"""Workflows (reference §7): v4 flows and the flow id <-> legacy workflow id mappings, to check a trigger's
workflow when it is saved; v2 enrollment by email, the only direct "enroll" HubSpot has.

    client.list_flows()                                   # [ApiFlowListing]
    client.map_workflow_ids(flow_ids=["123"])             # {"123": 5150}: flow id -> v2 workflow id
    client.enroll_contact("5150", "a@x.com")              # Enrollment(enrolled=True) or the refusal
    client.enrolled_workflows("601")                      # {5150, ...}: the contact's current workflows

An unknown workflow or contact is a 404 or a 412 (HubSpot documents neither; the sandbox answers 404 by
default): both come back as `Enrollment(enrolled=False, ...)`, not as an exception, because they are a
trigger's outcome to record (the contact is not in HubSpot yet, the workflow was deleted), not a failure of
the call.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline.hubspot.transport import Transport

ENROLL = "/automation/v2/workflows/{id}/enrollments/contacts/{email}"
MISSING_STATUSES = (404, 412)


@dataclass(frozen=True)
class Enrollment:
    enrolled: bool
    status: int
    message: str = ""  # HubSpot's, when it refused


class WorkflowOps(Transport):
    def _enrollment_path(self, workflow_id: str, email: str) -> str:
        return f"/automation/v2/workflows/{workflow_id}/enrollments/contacts/{urllib.parse.quote(email, safe='')}"

    def enroll_contact(self, workflow_id: str, email: str) -> Enrollment:
        response = self.call(
            "POST",
            self._enrollment_path(workflow_id, email),
            endpoint=f"POST {ENROLL}",
            accept=MISSING_STATUSES,
        )
        if response.status in MISSING_STATUSES:
            body = response.body if isinstance(response.body, dict) else {}
            return Enrollment(False, response.status, str(body.get("message") or "not found"))
        return Enrollment(True, response.status)

    def enroll_in_workflow(self, workflow_id: str, email: str) -> None:
        self.call("POST", self._enrollment_path(workflow_id, email), endpoint=f"POST {ENROLL}")

    def unenroll_from_workflow(self, workflow_id: str, email: str) -> None:
        self.call("DELETE", self._enrollment_path(workflow_id, email), endpoint=f"DELETE {ENROLL}")

    def enrolled_workflows(self, contact_id: str) -> set[int] | None:
        """The workflows the contact is enrolled in now; None when HubSpot does not know the contact."""
        response = self.call(
            "GET",
            f"/automation/v2/workflows/enrollments/contacts/{contact_id}",
            endpoint="GET /automation/v2/workflows/enrollments/contacts/{vid}",
            accept=MISSING_STATUSES,
        )
        if response.status in MISSING_STATUSES or not isinstance(response.body, list):
            return None
        return {int(w["id"]) for w in response.body if isinstance(w, dict) and str(w.get("id", "")).isdigit()}

    def list_flows(self) -> list[dict[str, Any]]:
        flows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
            body = self.call(
                "GET", "/automation/v4/flows", params=params, endpoint="GET /automation/v4/flows"
            ).body
            flows.extend((body or {}).get("results", []))
            after = (((body or {}).get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return flows

    def map_workflow_ids(
        self, *, flow_ids: Sequence[str] = (), workflow_ids: Sequence[str] = ()
    ) -> list[tuple[str, str]]:
        """(flow id, workflow id) pairs of those that exist; a missing id is simply absent (HubSpot's 207)."""
        inputs = [{"type": "FLOW_ID", "flowId": f} for f in flow_ids] + [
            {"type": "WORKFLOW_ID", "workflowId": w} for w in workflow_ids
        ]
        if not inputs:
            return []
        path = "/automation/v4/workflow-id-mappings/batch/read"
        body = self.call("POST", path, json={"inputs": inputs}, endpoint=f"POST {path}").body
        return [
            (str(r["flowId"]), str(r["workflowId"]))
            for r in (body or {}).get("results", [])
            if isinstance(r, dict) and "flowId" in r and "workflowId" in r
        ]
