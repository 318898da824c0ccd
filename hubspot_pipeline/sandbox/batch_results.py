"""The batch response envelope and its per-input errors (reference §2.3)."""

from __future__ import annotations

from typing import Any

from hubspot_pipeline.sandbox.object_types import ObjectType
from hubspot_pipeline.sandbox.routing import Reply
from hubspot_pipeline.sandbox.timeutil import iso_ms


def batch_error(
    category: str,
    message: str,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context or {},
        "errors": errors or [],
        "links": {},
    }


def not_found_error(object_type: ObjectType, ids: list[str]) -> dict[str, Any]:
    return batch_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {object_type.label} objects, they may be deleted or not exist. Check that ids are valid.",
        {"ids": ids},
    )


def batch_reply(
    results: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    started_ms: int,
    completed_ms: int,
    ok_status: int = 200,
) -> Reply:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started_ms),
        "completedAt": iso_ms(completed_ms),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return Reply(207, body)
    return Reply(ok_status, body)
