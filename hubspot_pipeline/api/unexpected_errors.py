"""Exceptions no handler answered: a 500 with a correlation id, logged without the exception's message.

The message of an exception can quote the request or a secret: SQLAlchemy's carries the statement's
parameters (a webhook's whole payload, an OAuth state), psycopg's the database's name and user, HubSpot's
the body it refused. So the log line holds the correlation id, the exception's type, the route and where it
was raised (file, line and function of its frames: code, not data), and nothing else.

Starlette's own 500 handler answers and then re-raises, so that uvicorn prints "Exception in ASGI
application" with the full traceback and message. `CatchUnexpected` sits inside it and never re-raises; and a
filter on uvicorn's error logger reduces any exception that still reaches it (raised outside this app's
middleware) to its type.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from pathlib import Path
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubspot_pipeline.api.errors import error_body

log = logging.getLogger(__name__)
FRAMES_SHOWN = 3
CORRELATION_HEADER = "X-Correlation-Id"


def _frame(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    parts = path.parts
    for anchor in ("site-packages", "hubspot_pipeline"):
        if anchor in parts:
            index = parts.index(anchor)
            path = Path(*parts[index + (anchor == "site-packages") :])
            break
    return f"{path}:{frame.lineno} {frame.name}"


def where_raised(error: BaseException) -> str:
    """Where the exception was raised, and the innermost frames of this project's code it passed through,
    innermost first: file, line and function only."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [
        frame
        for frame in frames
        if "hubspot_pipeline" in Path(frame.filename).parts and frame.filename != __file__
    ][-FRAMES_SHOWN:]
    shown = ours if frames and frames[-1] in ours else [*ours, *frames[-1:]]
    return " <- ".join(_frame(frame) for frame in reversed(shown)) or "unknown"


def _route(scope: Scope) -> str:
    route = scope.get("route")
    # The route's template (/sync/requests/{request_id}), not the path as sent.
    return getattr(route, "path", None) or "(no route matched)"


def log_unexpected(error: BaseException, correlation_id: str, scope: Scope) -> None:
    log.error(
        "unexpected %s in %s %s (correlation id %s) at %s; its message is withheld, as it may carry request "
        "data",
        type(error).__name__,
        scope.get("method", "?"),
        _route(scope),
        correlation_id,
        where_raised(error),
    )


def internal_error(correlation_id: str) -> JSONResponse:
    return JSONResponse(
        error_body(
            "internal_error",
            f"The server failed to handle this request; it was logged with correlation id {correlation_id}. "
            "Retry later, and report that id if it persists.",
            {"correlation_id": correlation_id},
        ),
        status_code=500,
        headers={CORRELATION_HEADER: correlation_id},
    )


class CatchUnexpected:
    """The outermost middleware of the app: answers 500 for any exception that got past the handlers, logs it
    (type and location only) and swallows it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as error:
            correlation_id = uuid.uuid4().hex
            log_unexpected(error, correlation_id, scope)
            if not started:
                await internal_error(correlation_id)(scope, receive, send)
            # Once a response has started it cannot become a 500; uvicorn closes the connection.


class TypeOnlyExceptions(logging.Filter):
    """For uvicorn's error logger: a record carrying an exception keeps its own text, gains the exception's
    type, and loses the exception's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = (
                f"{record.getMessage().rstrip()} ({type(error).__name__} at {where_raised(error)}; "
                "message withheld)"
            )
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def install(app: Any) -> None:
    app.add_middleware(CatchUnexpected)
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, TypeOnlyExceptions) for existing in uvicorn_errors.filters):
        uvicorn_errors.addFilter(TypeOnlyExceptions())
