"""One error shape for every failure: `{"error": {"code", "message", "details"}}`, where the message says what
was wrong and what to do about it. Unexpected exceptions become a 500 with a correlation id and no internals
in the body (`unexpected_errors.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An error answered to the client as JSON. `message` must tell the caller what to fix."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class BodyTooLarge(StarletteHTTPException):
    """Raised while a request body is read, once it is over its limit (`request_limits.py`). An HTTPException,
    because FastAPI's body parsing passes those on and turns any other exception into a 400."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _validation_message(error: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    problems = [{"field": _field(problem["loc"]), "problem": problem["msg"]} for problem in error.errors()]
    listed = "; ".join(f"{problem['field']}: {problem['problem']}" for problem in problems)
    return f"The request is invalid; correct these and send it again: {listed}", problems


_STATUS_HINTS = {
    # FastAPI's answer to a JSON body it could not parse (malformed, nested past the recursion limit, or a
    # number of more than 4,300 digits).
    400: (
        "malformed_body",
        "The body is not JSON this API can read (malformed, nested too deeply, or a number too long); send "
        "the JSON object described at /api/integrations/hubspot/docs.",
    ),
    404: ("not_found", "No such endpoint; see /api/integrations/hubspot/docs for the available ones."),
    405: (
        "method_not_allowed",
        "This endpoint does not accept that HTTP method; see /api/integrations/hubspot/docs.",
    ),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error_body(error.code, error.message, error.details), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        message, problems = _validation_message(error)
        return JSONResponse(error_body("invalid_request", message, problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error, BodyTooLarge):
            return JSONResponse(error_body("body_too_large", error.detail), status_code=413)
        code, message = _STATUS_HINTS.get(error.status_code, ("http_error", str(error.detail)))
        return JSONResponse(error_body(code, message), status_code=error.status_code, headers=error.headers)
