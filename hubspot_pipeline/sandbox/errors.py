"""HubSpot's error bodies: the standard envelope (400/403/404/409), the 401 auth bodies, the 429 bodies
(a different shape, with no `category`) and the OAuth token-endpoint errors (another shape)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

AUTH_NOT_FOUND_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
OBJECT_NOT_FOUND_MESSAGE = "Object not found.  objectId are usually numeric."  # two spaces, as HubSpot


class ApiError(Exception):
    """Raised by handlers; the app turns it into the response HubSpot would send."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def correlation_id() -> str:
    return str(uuid.uuid4())


def envelope(
    message: str,
    category: str,
    *,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    sub_category: str | None = None,
    links: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": correlation_id()}
    if sub_category:
        body["subCategory"] = sub_category
    if errors:
        body["errors"] = errors
    if context:
        body["context"] = context
    if links:
        body["links"] = links
    body["category"] = category
    return body


def validation_error(message: str, errors: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, envelope(message, "VALIDATION_ERROR", errors=errors))


def unsupported_media_type(content_type: str | None) -> ApiError:
    # HubSpot answers 415 to a JSON endpoint called without a JSON Content-Type (reported by
    # dimagi/commcare-hq#8643 and HubSpot/hubspot-local-dev-lib#103); the body's wording is not documented.
    sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    return ApiError(
        415,
        envelope(
            f"Unsupported Media Type: this endpoint reads a JSON body, and the request had {sent}. "
            "Send the body with Content-Type: application/json.",
            "VALIDATION_ERROR",
        ),
    )


def not_found(object_id: str) -> ApiError:
    return ApiError(404, envelope(OBJECT_NOT_FOUND_MESSAGE, "OBJECT_NOT_FOUND", context={"id": [object_id]}))


def resource_not_found(message: str) -> ApiError:
    return ApiError(404, envelope(message, "OBJECT_NOT_FOUND"))


def conflict(message: str, context: dict[str, list[str]] | None = None) -> ApiError:
    return ApiError(409, envelope(message, "CONFLICT", context=context))


def missing_scopes(required: tuple[str, ...]) -> ApiError:
    return ApiError(
        403,
        envelope(
            "This app hasn't been granted all required scopes to make this call. Read more about required "
            "scopes here: https://developers.hubspot.com/scopes.",
            "MISSING_SCOPES",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": list(required)},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        ),
    )


def invalid_authentication() -> ApiError:
    return ApiError(401, envelope(AUTH_NOT_FOUND_MESSAGE, "INVALID_AUTHENTICATION"))


def expired_authentication(expired_ms_ago: int, expire_time_iso: str) -> ApiError:
    seconds = max(expired_ms_ago // 1000, 0)
    amount = f"{seconds // 86400} day(s)" if seconds >= 86400 else f"{seconds} second(s)"
    message = f"The OAuth token used to make this call expired {amount} ago."
    return ApiError(
        401, envelope(message, "EXPIRED_AUTHENTICATION", context={"expire time": [expire_time_iso]})
    )


def rate_limit_body(message: str, policy: str, group_name: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }
    if group_name:
        body["groupName"] = group_name
    return body


def oauth_error(error: str, status: str, message: str) -> ApiError:
    """Token-endpoint errors: RFC 6749 fields plus HubSpot's legacy `status`/`message`."""
    return ApiError(400, {"error": error, "error_description": message, "status": status, "message": message})


def dumps(body: Any) -> bytes:
    return orjson.dumps(body)
