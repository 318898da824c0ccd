"""POST /crm/v3/objects/{objectType}/search: HubSpot's limits (200 per page, 10,000 results per query,
5/6/18 filters, one sort, 3,000-character query), its own 5-per-second budget and no rate-limit headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubspot_pipeline.sandbox.errors import validation_error
from hubspot_pipeline.sandbox.object_types import ObjectType, resolve_object_type
from hubspot_pipeline.sandbox.routes.common import READ_SCOPES, object_type_of
from hubspot_pipeline.sandbox.routing import Reply, RequestContext, Router
from hubspot_pipeline.sandbox.search_engine import compile_groups, parse_sort
from hubspot_pipeline.sandbox.search_query import run_search
from hubspot_pipeline.sandbox.serialize import select_properties
from hubspot_pipeline.sandbox.timeutil import iso_ms, parse_epoch_ms

MAX_LIMIT, DEFAULT_LIMIT, MAX_RESULTS, MAX_QUERY_CHARS = 200, 10, 10_000, 3_000


def _int(value: Any, field: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise validation_error(
            f"You must format the value in the `{field}` parameter as an integer."
        ) from None


def _association_check(
    context: RequestContext, object_type: ObjectType
) -> Callable[[str, str], Callable[[int], bool]]:
    def check(to_name: str, value: str) -> Callable[[int], bool]:
        other = resolve_object_type(to_name)
        linked = (
            set(context.portal.associations.targets((other.type_id, int(value)), object_type.type_id))
            if value.isdigit()
            else set()
        )
        return linked.__contains__

    return check


def _result(
    object_type: ObjectType, record_id: int, doc: dict[str, str], requested: list[str] | None, null: bool
) -> dict[str, Any]:
    created = parse_epoch_ms(doc.get(object_type.created_property, "")) or 0
    updated = parse_epoch_ms(doc.get(object_type.last_modified_property, "")) or created
    return {
        "id": str(record_id),
        "properties": select_properties(object_type, doc, requested, null),
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
        "archived": False,
    }


async def search(context: RequestContext) -> Reply:
    object_type = object_type_of(context)
    body = await context.json_object()
    limit = _int(body.get("limit"), "limit", DEFAULT_LIMIT)
    after = _int(body.get("after"), "after", 0)
    if limit < 1 or limit > MAX_LIMIT:
        raise validation_error(f"limit must be between 1 and {MAX_LIMIT}, got {limit}.")
    if after < 0 or after + limit > MAX_RESULTS:
        raise validation_error(
            f"The search API returns at most {MAX_RESULTS:,} results per query: after={after} with limit={limit} "
            f"pages past it. Narrow the query (for example hs_object_id GT the last id seen) and page from 0."
        )
    text = body.get("query")
    if text is not None and len(str(text)) > MAX_QUERY_CHARS:
        raise validation_error(f"A query can contain a maximum of {MAX_QUERY_CHARS:,} characters.")
    definitions = context.portal.property_defs(object_type)
    groups = compile_groups(body.get("filterGroups"), definitions, _association_check(context, object_type))
    sort = parse_sort(body.get("sorts"))
    index = context.portal.store(object_type).search
    index.catch_up(context.now_ms)

    terms = [term.lower() for term in str(text).split()] if text else []
    ordered, ids, docs = run_search(
        index,
        groups,
        terms,
        object_type.search_text_properties,
        sort,
        definitions,
        object_type.created_property if terms else None,
        needed=after + limit,
    )
    requested = body.get("properties") or None
    null = context.sandbox.options.empty_properties == "null"
    page = ordered[after : after + limit]
    response: dict[str, Any] = {
        "total": len(ordered),
        "results": [_result(object_type, int(ids[p]), docs[p], requested, null) for p in page],
    }
    if after + limit < len(ordered):
        response["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
    return Reply(200, response)


def register(router: Router) -> None:
    router.add("POST", "/crm/v3/objects/{objectType}/search", search, scopes=READ_SCOPES, limit="search")
