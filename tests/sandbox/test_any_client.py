"""What a real client may send that the project's own client never does (it joins lists with commas, sends
`archived=false` in lower case, JSON numbers as numbers): the sandbox must answer as HubSpot does, for
any client. Over raw HTTP: list parameters repeated, comma-separated (also as `%2C`) or mixed, with
blanks; empty, repeated and unknown parameters; `True`/`1` booleans; header and media-type casing;
trailing slashes; `+` and `%20`; numbers and booleans as JSON strings; a UTF-8 byte order mark. Every
answer a spec describes is validated against HubSpot's OpenAPI files.

Not here: what the official SDK sends (test_sdk.py), and the URI length limit (test_cli_and_boundaries.py)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle
from tests.sandbox.openapi import Specs

CONTACTS = "/crm/v3/objects/contacts"
ALWAYS = {"hs_object_id", "createdate", "lastmodifieddate"}


@pytest.fixture(scope="module")
def specs() -> Specs:
    return Specs()


@pytest.fixture
def validate(specs: Specs) -> Callable[[httpx.Response], None]:
    """An httpx response hook checking every answer against its operation's schema."""

    def check(response: httpx.Response) -> None:
        response.read()
        operation = specs.operation(response.request.method, response.request.url.path.rstrip("/"))
        if operation is not None:
            specs.validate(operation, response.status_code, response.content)

    return check


@pytest.fixture
def api(hubspot_sandbox: SandboxHandle, validate: Callable[[httpx.Response], None]) -> Iterator[httpx.Client]:
    """The portal's private-app client."""
    hubspot_sandbox.admin.configure(rate_limits_enabled=False)
    with httpx.Client(
        base_url=hubspot_sandbox.base_url,
        headers=hubspot_sandbox.auth_headers(),
        event_hooks={"response": [validate]},
    ) as client:
        yield client


@pytest.fixture
def contact(api: httpx.Client) -> str:
    properties = {"email": "ada@x.com", "firstname": "Ada", "lastname": "L", "jobtitle": "Eng", "city": "P"}
    created = api.post(CONTACTS, json={"properties": properties})
    assert created.status_code == 201
    return created.json()["id"]


def _properties(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return set(response.json()["properties"])


@pytest.mark.parametrize(
    "query",
    [
        "properties=firstname&properties=jobtitle",
        "properties=firstname,jobtitle",
        "properties=firstname%2Cjobtitle",  # requests and urllib encode the comma
        "properties=firstname&properties=jobtitle,firstname",
        "properties=,firstname,,&properties=&properties=%20jobtitle%20",
    ],
)
def test_a_list_parameter_in_any_form_asks_for_every_value(
    api: httpx.Client, contact: str, query: str
) -> None:
    assert _properties(api.get(f"{CONTACTS}/{contact}?{query}")) == {"firstname", "jobtitle"} | ALWAYS
    [listed] = api.get(f"{CONTACTS}?{query}").json()["results"]
    assert set(listed["properties"]) == {"firstname", "jobtitle"} | ALWAYS


def test_the_properties_api_takes_its_list_in_any_form(api: httpx.Client) -> None:
    for query in (
        "properties=email&properties=firstname&properties=jobtitle",
        "properties=email,firstname,jobtitle",
        "properties=email,firstname&properties=jobtitle",
    ):
        listed = api.get(f"/crm/v3/properties/contacts?{query}")
        assert sorted(p["name"] for p in listed.json()["results"]) == ["email", "firstname", "jobtitle"]


def test_empty_values_read_as_not_given(api: httpx.Client, contact: str) -> None:
    plain = api.get(f"{CONTACTS}/{contact}").json()
    empty = api.get(
        f"{CONTACTS}/{contact}?properties=&propertiesWithHistory=&associations=&archived=&idProperty="
    ).json()
    assert empty["properties"] == plain["properties"] and "propertiesWithHistory" not in empty
    assert "associations" not in empty
    listed = api.get(f"{CONTACTS}?limit=&after=&properties=&archived=")
    assert [r["id"] for r in listed.json()["results"]] == [contact]


def test_unknown_and_miscased_parameters_are_ignored(api: httpx.Client, contact: str) -> None:
    plain = api.get(f"{CONTACTS}/{contact}").json()["properties"]
    # Parameter names are case-sensitive: `Properties` is an unknown parameter, like `_` or `hapikey`.
    noisy = api.get(f"{CONTACTS}/{contact}?_=1712&utm_source=x&Properties=city&hapikey=nope")
    assert noisy.json()["properties"] == plain


def test_a_repeated_single_valued_parameter_takes_the_first(api: httpx.Client) -> None:
    for n in range(3):
        api.post(CONTACTS, json={"properties": {"email": f"{n}@x.com"}})
    assert len(api.get(f"{CONTACTS}?limit=1&limit=3").json()["results"]) == 1
    assert len(api.get(f"{CONTACTS}?limit=3&limit=1").json()["results"]) == 3


@pytest.mark.parametrize("spelling", ["true", "True", "TRUE", "1", " true "])
def test_archived_true_in_any_spelling(api: httpx.Client, contact: str, spelling: str) -> None:
    # The Python SDK sends archived=True (str(True)); PHP's http_build_query sends 1.
    live = api.post(CONTACTS, json={"properties": {"email": "live@x.com"}}).json()["id"]
    assert api.delete(f"{CONTACTS}/{contact}").status_code == 204
    archived = api.get(CONTACTS, params={"archived": spelling}).json()["results"]
    assert [r["id"] for r in archived] == [contact] and archived[0]["archived"] is True
    assert api.get(f"{CONTACTS}/{contact}", params={"archived": spelling}).status_code == 200
    read = api.post(
        f"{CONTACTS}/batch/read", params={"archived": spelling}, json={"inputs": [{"id": contact}]}
    )
    assert [r["id"] for r in read.json()["results"]] == [contact]
    for other in ("false", "False", "0", "no", ""):
        assert [r["id"] for r in api.get(CONTACTS, params={"archived": other}).json()["results"]] == [live]


def test_bad_page_sizes_are_400s(api: httpx.Client) -> None:
    for limit in ("ten", "0", "-1", "1.5"):
        refused = api.get(CONTACTS, params={"limit": limit})
        assert refused.status_code == 400 and "limit" in refused.json()["message"]


@pytest.mark.parametrize(
    "header",
    [
        ("Authorization", "Bearer {token}"),
        ("authorization", "bearer {token}"),
        ("AUTHORIZATION", "BEARER {token}"),
        ("Authorization", "Bearer   {token}"),
    ],
)
def test_authorization_in_any_casing(
    hubspot_sandbox: SandboxHandle, contact: str, header: tuple[str, str]
) -> None:
    name, value = header
    answer = httpx.get(
        f"{hubspot_sandbox.base_url}{CONTACTS}/{contact}",
        headers=[(name, value.format(token=hubspot_sandbox.private_app_token))],
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=UTF-8",
        "Application/JSON;charset=utf-8",
        "application/json ;",
    ],
)
def test_json_bodies_with_any_casing_and_charset(api: httpx.Client, content_type: str) -> None:
    created = api.post(
        CONTACTS,
        content=orjson.dumps({"properties": {"email": "ct@x.com"}}),
        headers={"Content-Type": content_type},
    )
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_endpoint_refuses_a_body_that_is_not_sent_as_json(
    api: httpx.Client, content_type: str | None
) -> None:
    # HubSpot answers 415 here (reported in dimagi/commcare-hq#8643, HubSpot/hubspot-local-dev-lib#103).
    headers = {"Content-Type": content_type} if content_type else {}
    request = api.build_request(
        "POST", CONTACTS, content=b'{"properties": {"email": "x@x.com"}}', headers=headers
    )
    if content_type is None:
        request.headers.pop("Content-Type", None)
    refused = api.send(request)
    assert refused.status_code == 415 and "application/json" in refused.json()["message"]
    assert api.get(CONTACTS).json()["results"] == []


def test_a_utf8_byte_order_mark_before_json_is_skipped(api: httpx.Client) -> None:
    body = codecs.BOM_UTF8 + orjson.dumps({"properties": {"email": "bom@x.com"}})
    created = api.post(CONTACTS, content=body, headers={"Content-Type": "application/json"})
    assert created.status_code == 201 and created.json()["properties"]["email"] == "bom@x.com"


def test_trailing_slashes_reach_the_same_endpoint(api: httpx.Client, contact: str) -> None:
    assert api.get(f"{CONTACTS}/").json()["results"][0]["id"] == contact
    assert api.get(f"{CONTACTS}/{contact}/").json()["id"] == contact
    read = api.post(f"{CONTACTS}/batch/read/", json={"inputs": [{"id": contact}]})
    assert read.json()["results"][0]["id"] == contact
    assert api.get("/crm/v3/properties/contacts/email/").json()["name"] == "email"
    assert api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies/").status_code == 200


def test_a_plus_in_a_path_is_a_plus_and_percent_escapes_decode(api: httpx.Client) -> None:
    created = api.post(CONTACTS, json={"properties": {"email": "ada+tag@x.com"}}).json()["id"]
    for path in ("ada+tag@x.com", "ada%2Btag%40x.com"):
        found = api.get(f"{CONTACTS}/{path}?idProperty=email")
        assert found.status_code == 200 and found.json()["id"] == created


@pytest.mark.parametrize("separator", ["%20", "+"])
def test_oauth_scopes_separated_by_plus_or_percent_20(hubspot_sandbox: SandboxHandle, separator: str) -> None:
    # The Python SDK's get_auth_url quotes spaces as %20; urllib's urlencode and requests send +.
    redirect = "http://localhost:8000/callback"
    scopes = ["oauth", "crm.objects.contacts.read", "crm.objects.companies.read"]
    query = (
        f"client_id={hubspot_sandbox.client_id}&redirect_uri={redirect}"
        f"&scope={separator.join(scopes[:2])}&scope={scopes[2]}"
    )
    location = httpx.get(f"{hubspot_sandbox.base_url}/oauth/authorize?{query}").headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = httpx.post(
        f"{hubspot_sandbox.base_url}/oauth/v1/token",
        content=(
            f"grant_type=authorization_code&code={code}&redirect_uri={redirect}"
            f"&client_id={hubspot_sandbox.client_id}&client_secret={hubspot_sandbox.client_secret}"
        ),
        headers={"Content-Type": "Application/X-WWW-Form-URLEncoded; charset=UTF-8"},
    )
    assert token.status_code == 200, token.text
    assert sorted(token.json()["scopes"]) == sorted(scopes)


def test_numbers_and_booleans_may_come_as_json_strings(api: httpx.Client, contact: str) -> None:
    # Jackson, which reads HubSpot's bodies, coerces "10" to 10 and "false" to false; Python's bool("false")
    # is True, which made a property created with hasUniqueValue "false" unique.
    found = api.post(f"{CONTACTS}/search", json={"limit": "1", "after": "0", "properties": ["email"]})
    assert found.json()["total"] == 1
    for search_filter in (
        {"propertyName": "hs_object_id", "operator": "EQ", "value": int(contact)},
        {"propertyName": "hs_object_id", "operator": "IN", "values": [int(contact), 1]},
        {"propertyName": "firstname", "operator": "IN", "values": ["ada", 7]},
    ):
        filtered = api.post(f"{CONTACTS}/search", json={"filterGroups": [{"filters": [search_filter]}]})
        assert [r["id"] for r in filtered.json()["results"]] == [contact], search_filter
    assert api.post(f"{CONTACTS}/batch/read", json={"inputs": [{"id": int(contact)}]}).json()["results"]
    created = api.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "cc_code",
            "label": "Code",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "hasUniqueValue": "false",
            "hidden": "False",
            "displayOrder": "3",
        },
    ).json()
    assert created["hasUniqueValue"] is False and created["hidden"] is False and created["displayOrder"] == 3
    read = api.post(
        "/crm/v3/properties/contacts/batch/read", json={"archived": "false", "inputs": [{"name": "cc_code"}]}
    )
    assert [p["name"] for p in read.json()["results"]] == ["cc_code"]
    company = api.post(
        "/crm/v3/objects/companies", json={"properties": {"name": "Acme", "numberofemployees": 50}}
    ).json()
    assert company["properties"]["numberofemployees"] == "50"
    linked = api.put(
        f"/crm/v4/objects/contacts/{contact}/associations/companies/{company['id']}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": "279"}],
    )
    assert linked.status_code == 201
    updated = api.patch(f"{CONTACTS}/{contact}", json={"properties": {"firstname": 7, "lastname": True}})
    assert (
        updated.json()["properties"]["firstname"] == "7"
        and updated.json()["properties"]["lastname"] == "true"
    )


def test_json_values_no_coercion_fits_are_400s_not_500s(api: httpx.Client, contact: str) -> None:
    refusals = [
        api.patch(f"{CONTACTS}/{contact}", json={"properties": {"firstname": {"first": "Ada"}}}),
        api.patch(f"{CONTACTS}/{contact}", json={"properties": {"firstname": ["Ada"]}}),
        api.post(
            "/crm/v3/properties/contacts",
            json={
                "name": "cc_x",
                "label": "X",
                "type": "string",
                "fieldType": "text",
                "groupName": "contactinformation",
                "displayOrder": "third",
            },
        ),
        api.post(
            "/crm/v3/properties/contacts",
            json={
                "name": "cc_y",
                "label": "Y",
                "type": "string",
                "fieldType": "text",
                "groupName": "contactinformation",
                "hasUniqueValue": "maybe",
            },
        ),
        api.post("/crm/v3/properties/contacts/groups", json={"name": "g", "label": "G", "displayOrder": []}),
        api.post(f"{CONTACTS}/search", json={"limit": True}),
        api.post(
            f"{CONTACTS}/search",
            json={"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": {}}]}]},
        ),
    ]
    for refused in refusals:
        assert refused.status_code == 400, refused.text
        assert refused.json()["category"] == "VALIDATION_ERROR"
    assert api.get(f"{CONTACTS}/{contact}").json()["properties"]["firstname"] == "Ada"
    assert api.get("/crm/v3/properties/contacts/cc_x").status_code == 404
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "A"}}).json()["id"]
    for type_id in (True, "two", 1.5, None):
        refused = api.put(
            f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
            json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
        )
        assert refused.status_code == 400, (type_id, refused.text)
    assert api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()["results"] == []


def test_webhook_settings_read_strings_and_refuse_garbage(
    hubspot_sandbox: SandboxHandle, validate: Callable[[httpx.Response], None]
) -> None:
    developer = httpx.Client(
        base_url=f"{hubspot_sandbox.base_url}/webhooks/v3/{hubspot_sandbox.app_id}",
        params={"hapikey": hubspot_sandbox.developer_api_key},
        event_hooks={"response": [validate]},
    )
    settings = developer.put(
        "/settings",
        json={"targetUrl": "https://example.com/h", "throttling": {"maxConcurrentRequests": "10"}},
    )
    assert settings.json()["throttling"]["maxConcurrentRequests"] == 10
    created = developer.post("/subscriptions", json={"eventType": "contact.creation", "active": "false"})
    assert created.json()["active"] is False
    subscription = created.json()["id"]
    assert developer.patch(f"/subscriptions/{subscription}", json={"active": "true"}).json()["active"] is True
    batch = developer.post(
        "/subscriptions/batch/update", json={"inputs": [{"id": subscription, "active": "0"}]}
    )
    assert batch.json()["results"][0]["active"] is False
    for inputs in ([1], [{"id": "abc", "active": True}], [{"id": subscription, "active": "perhaps"}]):
        refused = developer.post("/subscriptions/batch/update", json={"inputs": inputs})
        assert refused.status_code == 400, refused.text
    developer.close()


def test_every_route_reads_its_query_through_one_helper() -> None:
    # Regression guard: a route reading `request.query_params` itself got one value of a repeated list.
    sandbox = Path(__file__).resolve().parents[2] / "hubspot_pipeline" / "sandbox"
    wrapped = re.compile(r"Query\((?:self\.)?request\.query_params\)")
    for path in sandbox.rglob("*.py"):
        text = path.read_text()
        if path.name != "query.py":
            assert text.count("query_params") == len(wrapped.findall(text)), path
            assert "split_csv" not in text, path
