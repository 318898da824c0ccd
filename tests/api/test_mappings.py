"""GET /properties and GET/POST /mappings against the sandbox over HTTP: the portal's properties are listed,
a valid set is saved whole, and an invalid set is refused with every problem named and nothing saved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_support import Tenant, make_tenant, url
from fastapi.testclient import TestClient
from test_oauth import connect

from hubspot_pipeline.sandbox.testing import SandboxHandle


@pytest.fixture
def connected(client: TestClient, engine: sa.Engine, sandbox_api: SandboxHandle) -> Tenant:
    tenant = make_tenant(engine, connected=False)
    connect(client, tenant, sandbox_api)
    return tenant


def test_properties_lists_the_portals_contact_and_company_properties(client, connected: Tenant) -> None:
    response = client.get(url("/properties"), headers=connected.headers)
    assert response.status_code == 200
    contacts = {p["name"]: p for p in response.json()["contacts"]}
    companies = {p["name"] for p in response.json()["companies"]}
    assert {"email", "firstname", "lastname", "lifecyclestage"} <= set(contacts)
    assert "domain" in companies
    assert contacts["lifecyclestage"]["type"] == "enumeration" and contacts["lifecyclestage"]["options"]


def test_properties_without_a_usable_connection_is_a_409_saying_what_to_do(client, engine, tenant) -> None:
    never = client.get(url("/properties"), headers=make_tenant(engine, connected=False).headers)
    assert never.status_code == 409 and "connect it first with GET" in never.json()["error"]["message"]
    # `tenant` holds ciphertext no key of this deployment can read, as after a lost encryption key.
    unreadable = client.get(url("/properties"), headers=tenant.headers)
    assert unreadable.status_code == 409 and "reconnect HubSpot" in unreadable.json()["error"]["message"]


VALID = [
    {"coldcopy_field": "email", "hubspot_property": "email", "transform_function": "trim | lowercase"},
    {"coldcopy_field": "first_name", "hubspot_property": "firstname", "transform_function": "trim"},
    {"coldcopy_field": "title", "hubspot_property": "jobtitle", "direction": "to_hubspot"},
    {"coldcopy_field": "custom_fields.tier", "hubspot_property": "coldcopy_tier"},  # will be created
    {
        "coldcopy_field": "company",
        "hubspot_property": "name",
        "object_type": "company",
        "direction": "to_hubspot",
    },
]


def test_a_valid_set_is_saved_whole_and_replaces_the_previous_one(client, connected: Tenant) -> None:
    saved = client.post(url("/mappings"), json={"mappings": VALID}, headers=connected.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["saved"] == 5
    again = client.post(url("/mappings"), json={"mappings": VALID[:2]}, headers=connected.headers)
    assert again.json()["saved"] == 2
    listed = client.get(url("/mappings"), headers=connected.headers).json()
    assert [m["hubspot_property"] for m in listed["mappings"]] == ["email", "firstname"]


def test_an_invalid_set_is_refused_with_every_problem_named(client, connected: Tenant) -> None:
    client.post(url("/mappings"), json={"mappings": VALID[:2]}, headers=connected.headers)
    invalid = [
        VALID[0],
        {"coldcopy_field": "first_name", "hubspot_property": "firstname", "transform_function": "shout()"},
        {"coldcopy_field": "nickname", "hubspot_property": "lastname"},
        {"coldcopy_field": "title", "hubspot_property": "createdate", "direction": "to_hubspot"},
        {"coldcopy_field": "phone", "hubspot_property": "Bad Name!"},
        {"coldcopy_field": "title", "hubspot_property": "jobtitle", "transform_function": "truncate(-3)"},
    ]
    response = client.post(url("/mappings"), json={"mappings": invalid}, headers=connected.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_mappings"
    assert {problem["index"] for problem in error["details"]} == {1, 2, 3, 4, 5}
    for index in (2, 3, 4, 5, 6):
        assert f"mapping #{index} " in error["message"]
    assert "Nothing was saved" in error["message"]
    listed = client.get(url("/mappings"), headers=connected.headers).json()
    assert [m["hubspot_property"] for m in listed["mappings"]] == ["email", "firstname"]


def test_a_mapping_with_an_unknown_direction_or_field_is_a_422_naming_it(client, connected: Tenant) -> None:
    response = client.post(
        url("/mappings"),
        json={
            "mappings": [{"coldcopy_field": "email", "hubspot_property": "email", "direction": "sideways"}]
        },
        headers=connected.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "mappings.0.direction"


@pytest.mark.parametrize(
    "transform",
    [
        "default(" + "[" * 990 + "]" * 990 + ")",
        "map{" + '"a": ' + "{" * 900 + "}" * 900 + "}",
        "default(" + "[" * 17 + "]" * 17 + ")",
    ],
)
def test_a_transform_whose_arguments_nest_too_deep_is_refused_for_that_mapping(
    client, connected: Tenant, transform: str
) -> None:
    # Regression: the transform parser reads arguments with json.loads, whose RecursionError it did not
    # catch: a 500 for a 2,000-character transform.
    body = {"mappings": [VALID[0], {**VALID[1], "transform_function": transform}]}
    response = client.post(url("/mappings"), json=body, headers=connected.headers)
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["details"]
    assert problem["field"] == "mappings.1.transform_function" and "nest" in problem["problem"]


def test_brackets_inside_quoted_text_do_not_count_as_nesting(client, connected: Tenant) -> None:
    transform = 'trim | default("' + "(" * 40 + '")'
    body = {"mappings": [{**VALID[1], "transform_function": transform}]}
    response = client.post(url("/mappings"), json=body, headers=connected.headers)
    assert response.status_code == 200, response.text


def test_company_mappings_may_pull_from_hubspot_and_are_saved(client, connected: Tenant) -> None:
    companies = [
        {"coldcopy_field": "name", "hubspot_property": "name", "object_type": "company"},
        {
            "coldcopy_field": "custom_fields.industry",
            "hubspot_property": "coldcopy_industry",
            "object_type": "company",
            "direction": "from_hubspot",
        },
    ]
    saved = client.post(
        url("/mappings"), json={"mappings": [*VALID[:2], *companies]}, headers=connected.headers
    )
    assert saved.status_code == 200, saved.text
    listed = client.get(url("/mappings"), headers=connected.headers).json()["mappings"]
    assert [(m["hubspot_property"], m["direction"]) for m in listed if m["object_type"] == "company"] == [
        ("name", "bidirectional"),
        ("coldcopy_industry", "from_hubspot"),
    ]


@pytest.mark.parametrize(
    "mapping, problem",
    [
        ({"coldcopy_field": "title", "hubspot_property": "description"}, "'title' does not exist"),
        ({"coldcopy_field": "name", "hubspot_property": "domain"}, "domain is the match key"),
        (
            {"coldcopy_field": "custom_fields.x'); DROP TABLE companies;--", "hubspot_property": "x"},
            "does not exist",
        ),
        ({"coldcopy_field": "name+custom_fields.a", "hubspot_property": "name"}, "reads one company field"),
        ({"coldcopy_field": "domain", "hubspot_property": "coldcopy_domain"}, "'domain' does not exist"),
        ({"coldcopy_field": "engagement.score", "hubspot_property": "coldcopy_score"}, "does not exist"),
    ],
)
def test_a_company_mapping_of_no_company_field_or_of_the_key_is_refused_and_nothing_saved(
    client, connected: Tenant, mapping: dict, problem: str
) -> None:
    client.post(url("/mappings"), json={"mappings": VALID[:2]}, headers=connected.headers)
    response = client.post(
        url("/mappings"),
        json={"mappings": [*VALID[:2], {**mapping, "object_type": "company", "direction": "bidirectional"}]},
        headers=connected.headers,
    )
    assert response.status_code == 422, response.text
    assert problem in response.json()["error"]["message"]
    listed = client.get(url("/mappings"), headers=connected.headers).json()["mappings"]
    assert [m["hubspot_property"] for m in listed] == ["email", "firstname"]
