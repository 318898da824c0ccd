"""Requests are bounded before anything reads them: the head (request line and headers) and the body.

The head: `serve` runs uvicorn's h11 parser, which refuses a head once more than MAX_REQUEST_HEAD_BYTES of
it is buffered incomplete (httptools, uvicorn's default, buffers any size); a head that arrives within one
socket read (up to 256 KiB) still reaches the app, which answers 431 for more than MAX_REQUEST_HEAD_BYTES, so
that no query string or header of that size is parsed. HubSpot's deliveries and OAuth redirects need ~2 KiB.

The body: FastAPI reads and parses a JSON body before the endpoint's dependencies run, authentication included, so
without a bound anyone could make the API hold and parse a body of any size. A body that declares a length
over the limit is answered 413 at once, unread; one streamed without a length is counted as it arrives and
refused once over. The webhook receiver's limit is WEBHOOK_MAX_BODY_BYTES; every other endpoint's is
MAX_BODY_BYTES, four times the largest mapping set (500 mappings with every field at its longest).
"""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubspot_pipeline.api.errors import BodyTooLarge, error_body
from hubspot_pipeline.settings import get_settings

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_REQUEST_HEAD_BYTES = 16 * 1024
_DIGITS = re.compile(rb"[0-9]{1,19}")


def _head_bytes(scope: Scope) -> int:
    headers = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
    return headers + len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if _DIGITS.fullmatch(value) else None
    return None


class RequestLimits:
    def __init__(self, app: ASGIApp, *, webhook_path: str) -> None:
        self.app = app
        self.webhook_path = webhook_path

    def _limit(self, path: str) -> tuple[int, str]:
        if path == self.webhook_path:
            return (
                get_settings().webhook_max_body_bytes,
                "HubSpot sends at most 100 events per request (the limit is WEBHOOK_MAX_BODY_BYTES)",
            )
        return MAX_BODY_BYTES, "no request to this API needs more; send a smaller one"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _head_bytes(scope) > MAX_REQUEST_HEAD_BYTES:
            refusal = error_body(
                "request_head_too_large",
                f"The request line and headers are over {MAX_REQUEST_HEAD_BYTES} bytes; no request to this API "
                "needs that many.",
            )
            await JSONResponse(refusal, status_code=431)(scope, receive, send)
            return
        limit, hint = self._limit(scope["path"])
        message = f"The body is over {limit} bytes; {hint}."
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await JSONResponse(error_body("body_too_large", message), status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(message)
            return event

        await self.app(scope, counted, send)
