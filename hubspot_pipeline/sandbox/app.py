"""The sandbox as an ASGI app. Each request goes: route → faults and latency → authentication → budget
→ handler → response with HubSpot's headers, and is counted by endpoint and status."""

from __future__ import annotations

import asyncio
import logging
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from hubspot_pipeline.sandbox.auth import authenticate
from hubspot_pipeline.sandbox.budget import spend
from hubspot_pipeline.sandbox.errors import ApiError, correlation_id, dumps, envelope
from hubspot_pipeline.sandbox.faults import GATEWAY_BODIES, plan_fault
from hubspot_pipeline.sandbox.options import SandboxOptions
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Route, Router
from hubspot_pipeline.sandbox.state import Sandbox
from hubspot_pipeline.sandbox.webhook_dispatch import WebhookDispatcher

log = logging.getLogger(__name__)
DROP_MESSAGE = "sandbox fault: dropped connection"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _HideInjectedDrops(logging.Filter):
    """uvicorn logs a traceback when an app aborts a response; for an injected drop that is the point."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, ConnectionAbortedError) and str(error) == DROP_MESSAGE)


logging.getLogger("uvicorn.error").addFilter(_HideInjectedDrops())


def build_router() -> Router:
    from hubspot_pipeline.sandbox.routes import register_all

    router = Router()
    register_all(router)
    return router


class SandboxApp:
    def __init__(self, options: SandboxOptions) -> None:
        self.sandbox = Sandbox(options)
        self.webhooks = WebhookDispatcher(self.sandbox)
        self.sandbox.set_event_sink(self.webhooks.enqueue)
        self.sandbox.webhooks = self.webhooks
        self.router = build_router()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.webhooks.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.webhooks.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.webhooks.start()  # no-op once running; servers without lifespan still deliver
        sandbox = self.sandbox
        request = Request(scope, receive)
        route, params, path_exists = self.router.match(request.method, scope["path"])
        if route is None:
            status = 405 if path_exists else 404
            await self._send(
                send,
                Reply(
                    status,
                    envelope(
                        "Method not allowed" if path_exists else f"Unknown path: {scope['path']}",
                        "VALIDATION_ERROR" if path_exists else "OBJECT_NOT_FOUND",
                    ),
                ),
            )
            return
        is_api = route.auth != "admin"
        uri_length = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 1
        if is_api and uri_length > sandbox.options.max_uri_length:
            # Long `properties` lists on GET hit this at HubSpot (reference §10, problem 8).
            reply = Reply(414, envelope("URI Too Long", "VALIDATION_ERROR"))
            sandbox.counters.record(route.endpoint_name(params), 414, None)
            await self._send(send, reply)
            return
        hub_id: int | None = None
        plan = None
        if is_api:
            write = request.method in WRITE_METHODS
            plan = plan_fault(sandbox.options.faults, sandbox.rng, write=write)
            if plan.delay_seconds:
                await asyncio.sleep(plan.delay_seconds)
            if sandbox.options.faults.hold:  # (most requests: nothing is held)
                await self._wait_while_held(route.endpoint_name(params))
            if plan.fault is not None:
                await self._inject(send, plan.fault, route, params)
                return
        now_ms = sandbox.clock.now_ms()
        context = RequestContext(sandbox, request, params, now_ms)
        headers: dict[str, str] = {}
        try:
            context.auth = authenticate(sandbox, route, request, now_ms)
            if context.auth is not None and context.auth.portal is not None:
                hub_id = context.auth.portal.hub_id
            headers = spend(sandbox, route, context.auth, now_ms)
            reply = await route.handler(context)
        except ApiError as error:
            reply = Reply(error.status, error.body, error.headers)
        except Exception:  # a sandbox bug must look like HubSpot's 500, and be logged
            log.exception("sandbox handler failed: %s %s", request.method, scope["path"])
            reply = Reply(500, envelope("internal error", "INTERNAL_ERROR"))
        reply.headers = {**headers, **reply.headers}
        if plan is not None and plan.after_write is not None and reply.status < 400:
            # The work is done; the client only learns that the gateway failed.
            status, raw = GATEWAY_BODIES[plan.after_write]
            reply = Reply(status, raw=raw, media_type="text/html")
        if is_api:
            sandbox.counters.record(route.endpoint_name(params), reply.status, hub_id)
        await self._send(send, reply)

    async def _wait_while_held(self, endpoint: str) -> None:
        if endpoint not in self.sandbox.options.faults.hold:
            return
        held = self.sandbox.counters.held
        held[endpoint] += 1
        try:
            while endpoint in self.sandbox.options.faults.hold:
                await asyncio.sleep(0.01)
        finally:
            held[endpoint] -= 1

    async def _inject(self, send: Send, fault: str, route: Route, params: dict[str, str]) -> None:
        options = self.sandbox.options.faults
        endpoint = route.endpoint_name(params)
        if fault == "drop":
            self.sandbox.counters.record(endpoint, 0, None)
            # Promise a body, send half of nothing, then fail: the server closes the connection mid-response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"results":[', "more_body": True})
            raise ConnectionAbortedError(DROP_MESSAGE)
        if fault == "timeout":
            await asyncio.sleep(options.timeout_seconds)
        if fault == "429":
            from hubspot_pipeline.sandbox.errors import rate_limit_body

            body: Any = rate_limit_body(
                "You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING"
            )
            reply = Reply(429, body)
        elif fault == "500":
            reply = Reply(500, envelope("internal error", "INTERNAL_ERROR"))
        else:
            status, raw = GATEWAY_BODIES[fault]
            reply = Reply(status, raw=raw, media_type="text/html")
        self.sandbox.counters.record(endpoint, reply.status, None)
        await self._send(send, reply)

    async def _send(self, send: Send, reply: Reply) -> None:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is None:
            payload = b""
        else:
            payload = dumps(reply.body)
        headers: list[tuple[bytes, bytes]] = [(b"x-hubspot-correlation-id", correlation_id().encode())]
        # HubSpot's clock is the sandbox's (advanced by tests): clients take search horizons from Date.
        headers.append((b"date", formatdate(self.sandbox.clock.now_ms() / 1000, usegmt=True).encode()))
        if reply.status != 204 and (payload or reply.raw is not None):
            headers.append((b"content-type", reply.media_type.encode()))
        headers.append((b"content-length", str(len(payload)).encode()))
        headers.extend((name.lower().encode(), value.encode()) for name, value in reply.headers.items())
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload if reply.status != 204 else b""})


def create_app(options: SandboxOptions | None = None, **overrides: Any) -> SandboxApp:
    """The ASGI app. `create_app(SandboxOptions(...))` or `create_app(index_lag_seconds=2)`."""
    if options is None:
        options = SandboxOptions(**overrides)
    elif overrides:
        options = options.model_copy(update=overrides)
    return SandboxApp(options)
