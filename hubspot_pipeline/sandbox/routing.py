"""A small router: HubSpot paths come in a `v3` and a date-versioned form (`/crm/objects/2026-03/...`),
each route declares how it authenticates and which budget it spends, and every call is counted under
one endpoint name whatever version the client used."""

from __future__ import annotations

import codecs
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
from starlette.requests import Request

from hubspot_pipeline.sandbox.errors import ApiError, unsupported_media_type, validation_error
from hubspot_pipeline.sandbox.query import Query

if TYPE_CHECKING:
    from hubspot_pipeline.sandbox.auth import AuthInfo
    from hubspot_pipeline.sandbox.portal import Portal
    from hubspot_pipeline.sandbox.records import WriteSource
    from hubspot_pipeline.sandbox.state import Sandbox

_DATED = r"\d{4}-\d{2}"
# Canonical prefix -> the regex that also accepts the date-versioned spellings (reference §0.2).
VERSIONED_PREFIXES: dict[str, str] = {
    "/crm/v3/objects/": rf"/crm/(?:v3/objects|objects/{_DATED})/",
    "/crm/v3/properties/": rf"/crm/(?:v3/properties|properties/{_DATED})/",
    "/crm/v4/associations/": rf"/crm/(?:v4/associations|associations/{_DATED})/",
    "/crm/v4/objects/": rf"/crm/(?:v4/objects|objects/{_DATED})/",
    "/integrators/timeline/v3/": rf"/(?:integrators/timeline/(?:v3|{_DATED})|crm/v3/timeline)/",
    "/webhooks/v3/": rf"/webhooks/(?:v3|{_DATED})/",
    "/oauth/v3/": rf"/oauth/(?:v3|{_DATED})/",
}
# Path parameters whose value names the endpoint (objectType) rather than a record.
NAMING_PARAMETERS = {"objectType", "toObjectType", "fromObjectType"}

AuthKind = Literal["portal", "developer", "none", "admin"]
LimitKind = Literal["standard", "search", "none"]


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is (redirects, plain text)
    media_type: str = "application/json;charset=utf-8"


@dataclass
class RequestContext:
    sandbox: Sandbox
    request: Request
    params: dict[str, str]
    now_ms: int
    auth: AuthInfo | None = None
    _json: Any = None
    _body: bytes | None = None

    @property
    def portal(self) -> Portal:
        if self.auth is None or self.auth.portal is None:
            raise ApiError(500, {"status": "error", "message": "route has no portal", "category": "INTERNAL"})
        return self.auth.portal

    @property
    def query(self) -> Query:
        return Query(self.request.query_params)

    async def body(self) -> bytes:
        if self._body is None:
            self._body = await self.request.body()
        return self._body

    def media_type(self) -> str:
        """The body's media type, lowercased and without parameters (`Application/JSON; charset=UTF-8`)."""
        return self.request.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    async def json(self) -> Any:
        if self._json is None:
            if self.media_type() != "application/json":
                raise unsupported_media_type(self.request.headers.get("content-type"))
            # Jackson, which reads HubSpot's bodies, skips a UTF-8 byte order mark; some clients send one.
            raw = (await self.body()).removeprefix(codecs.BOM_UTF8)
            if not raw.strip():
                raise validation_error("Invalid input JSON: the request body is empty.")
            try:
                self._json = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                raise validation_error(
                    f"Invalid input JSON on line 1, column {error.pos + 1}: {error.msg}"
                ) from None
        return self._json

    async def json_object(self) -> dict[str, Any]:
        value = await self.json()
        if not isinstance(value, dict):
            raise validation_error("Invalid input JSON: expected an object.")
        return value

    def visible_at(self) -> int | None:
        return self.sandbox.visible_at(self.now_ms)

    def source(self) -> WriteSource:
        from hubspot_pipeline.sandbox.records import WriteSource

        if self.auth is not None and self.auth.kind == "oauth":
            return WriteSource("INTEGRATION", f"appId:{self.auth.app_id}")
        if self.auth is not None and self.auth.kind == "private":
            return WriteSource("API", "private-app")
        return WriteSource("API")


Handler = Callable[[RequestContext], Awaitable[Reply]]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    auth: AuthKind = "portal"
    scopes: tuple[str, ...] = ()  # any one of them suffices
    limit: LimitKind = "standard"
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.escape(self.template)
        for canonical, accepted in VERSIONED_PREFIXES.items():
            escaped = re.escape(canonical)
            if pattern.startswith(escaped):
                pattern = accepted + pattern[len(escaped) :]
                break
        pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}/?$")

    def endpoint_name(self, params: dict[str, str]) -> str:
        name = self.template
        for key in NAMING_PARAMETERS & params.keys():
            name = name.replace("{" + key + "}", params[key])
        return f"{self.method} {name}"


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, **kwargs: Any) -> None:
        self.routes.append(Route(method, template, handler, **kwargs))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists under another method)."""
        path_exists = False
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict(), True
            path_exists = True
        return None, {}, path_exists
