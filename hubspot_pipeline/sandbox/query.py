"""Query parameters as HubSpot reads them, whatever the client. Every route reads its query through
`Query`, so no route can read a list parameter's last value only: the official SDKs repeat list
parameters (`?properties=a&properties=b`, the OpenAPI files' `form` style with `explode`), the docs and
our own client join them with commas (`?properties=a,b`), and HubSpot honours both, and a mix."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from hubspot_pipeline.sandbox.errors import validation_error

TRUE_WORDS = frozenset({"true", "1"})


class Query:
    def __init__(self, params: QueryParams) -> None:
        self._params = params

    def text(self, name: str) -> str | None:
        """A single-valued parameter. Sent twice, the first value counts, as in the JAX-RS servers HubSpot
        runs (its behaviour is undocumented)."""
        values = self._params.getlist(name)
        return values[0] if values else None

    def values(self, name: str) -> list[str] | None:
        """A list parameter, repeated, comma-separated or both, in order, without blanks or repeats.
        None when it is absent or holds nothing (`?properties=`), which reads as not asked."""
        items = (item.strip() for value in self._params.getlist(name) for item in value.split(","))
        return list(dict.fromkeys(item for item in items if item)) or None

    def words(self, name: str) -> list[str]:
        """A space-separated list (OAuth scopes: `scope=a%20b` or `scope=a+b`), repeated or not."""
        return list(dict.fromkeys(word for value in self._params.getlist(name) for word in value.split()))

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean: `true` in any case (the Python SDK sends `True`) or `1` is true; anything else is
        false, and absent or empty is the default."""
        value = (self.text(name) or "").strip()
        return value.lower() in TRUE_WORDS if value else default

    def integer(self, name: str, default: int) -> int:
        value = (self.text(name) or "").strip()
        if not value:
            return default
        try:
            return int(value)
        except ValueError:
            raise validation_error(f"{name} must be an integer, got {value!r}") from None

    def limit(self, default: int, maximum: int) -> int:
        """A page size: absent or empty is the default, above the maximum is the maximum."""
        limit = self.integer("limit", default)
        if limit < 1:
            raise validation_error("limit must be at least 1")
        return min(limit, maximum)
