"""HubSpot's own Python SDK (hubspot-api-client 12) drives the sandbox through every endpoint it covers
that the sandbox serves: objects, batch, search, merge, GDPR, properties, associations v4, timeline,
webhooks and OAuth. Each call succeeds or fails as HubSpot documents (the SDK's models also reject
responses that lack required fields), and every answer the SDK received validates against HubSpot's
OpenAPI files. List parameters go in each form a client may use: the SDK repeats them
(`properties=a&properties=b`), a single comma-joined value gives the docs' form (`properties=a,b`), and
a mix of both; exactly the requested properties come back in each.

Forms the SDK cannot send at all (repeated `properties` on the properties API, whose SDK parameter is one
string) are in test_any_client.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from hubspot import HubSpot
from hubspot.crm import contacts, properties, timeline
from hubspot.crm.associations import v4
from hubspot.crm.contacts.exceptions import ApiException as ContactsError
from hubspot.crm.objects import notes
from hubspot.discovery.discovery_base import DiscoveryBase
from hubspot.oauth.exceptions import ApiException as OAuthError
from hubspot.webhooks import (
    SettingsChangeRequest,
    SubscriptionCreateRequest,
    SubscriptionPatchRequest,
    ThrottlingSettings,
)

from hubspot_pipeline.sandbox.testing import SandboxHandle
from tests.sandbox.openapi import Specs


@dataclass
class Exchanges:
    """Every (method, path, status, body) the SDK's HTTP pool saw, through the SDK's own `api_factory`
    hook: the SDK turns bodies into models, and the schemas are checked on the bytes."""

    seen: list[tuple[str, str, int, bytes]] = field(default_factory=list)

    def api_factory(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        api = DiscoveryBase._default_api_factory(package, api_name, config)
        pool = api.api_client.rest_client.pool_manager
        send = pool.request

        def recorded(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = send(method, url, *args, **kwargs)
            self.seen.append((method, urlsplit(url).path, response.status, response.data))
            return response

        pool.request = recorded
        return api


@pytest.fixture(scope="module")
def specs() -> Specs:
    return Specs()


@pytest.fixture
def exchanges(specs: Specs) -> Iterator[Exchanges]:
    recorded = Exchanges()
    yield recorded
    checked = 0
    for method, path, status, body in recorded.seen:
        operation = specs.operation(method, path)
        if operation is not None:  # the render and detail endpoints are in no spec
            specs.validate(operation, status, body)
            checked += 1
    assert checked, "no answer was checked against the OpenAPI files"


@pytest.fixture
def client(hubspot_sandbox: SandboxHandle, exchanges: Exchanges) -> Callable[..., HubSpot]:
    def make(**credentials: str) -> HubSpot:
        return HubSpot(host=hubspot_sandbox.base_url, api_factory=exchanges.api_factory, **credentials)

    return make


@pytest.fixture
def sdk(hubspot_sandbox: SandboxHandle, client: Callable[..., HubSpot]) -> HubSpot:
    hubspot_sandbox.admin.configure(rate_limits_enabled=False)
    return client(access_token=hubspot_sandbox.private_app_token)


# How a client may send the list ["a", "b", "c"] through the SDK's list argument.
LIST_FORMS: dict[str, Callable[[list[str]], list[str]]] = {
    "repeated": lambda names: names,  # properties=a&properties=b&properties=c, the SDK's own format
    "comma-separated": lambda names: [",".join(names)],  # properties=a,b,c, as the docs write it
    "mixed": lambda names: [",".join(names[:2]), *names[1:]],  # properties=a,b&properties=b&properties=c
}


@dataclass(frozen=True)
class Family:
    """One CRM object family as the SDK reaches it, with a record whose properties are partly requested."""

    name: str
    api: Callable[[HubSpot], Any]
    values: dict[str, str]
    requested: list[str]  # every one has a value; the rest of `values` must not come back
    always: frozenset[str]  # what HubSpot returns whatever `properties` asks for
    associated: list[str]  # families a record of this one can be associated with by default


FAMILIES = [
    Family(
        "contacts",
        lambda sdk: sdk.crm.contacts,
        {"email": "ada@x.com", "firstname": "Ada", "lastname": "L", "jobtitle": "Eng", "city": "Paris"},
        ["firstname", "lastname", "jobtitle"],
        frozenset({"hs_object_id", "createdate", "lastmodifieddate"}),
        ["companies", "emails", "notes"],
    ),
    Family(
        "companies",
        lambda sdk: sdk.crm.companies,
        {"name": "Acme", "domain": "acme.com", "city": "Lyon", "industry": "Software", "phone": "1"},
        ["name", "domain", "city"],
        frozenset({"hs_object_id", "createdate", "hs_lastmodifieddate"}),
        ["contacts", "emails", "notes"],
    ),
    Family(
        "emails",
        lambda sdk: sdk.crm.objects.emails,
        {
            "hs_timestamp": "2024-01-01T00:00:00.000Z",
            "hs_email_direction": "EMAIL",
            "hs_email_subject": "Hi",
            "hs_email_text": "Hello",
            "hs_email_status": "SENT",
        },
        ["hs_email_subject", "hs_email_direction", "hs_email_text"],
        frozenset({"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}),
        ["contacts", "companies"],
    ),
    Family(
        "notes",
        lambda sdk: sdk.crm.objects.notes,
        {
            "hs_timestamp": "2024-01-01T00:00:00.000Z",
            "hs_note_body": "Called",
            "hs_attachment_ids": "7",
            "hubspot_owner_id": "42",
        },
        ["hs_note_body", "hs_attachment_ids", "hubspot_owner_id"],
        frozenset({"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}),
        ["contacts", "companies"],
    ),
]


@pytest.fixture
def records(sdk: HubSpot) -> dict[str, str]:
    """One record per family, each associated with every family it has a default association with."""
    ids = {
        family.name: family.api(sdk).basic_api.create({"properties": family.values}).id for family in FAMILIES
    }
    for family in FAMILIES:  # a second write gives the history more than one entry
        family.api(sdk).basic_api.update(ids[family.name], {"properties": {family.requested[0]: "changed"}})
    associations = sdk.crm.associations.v4.basic_api
    for family in FAMILIES:
        for other in family.associated:
            associations.create_default(family.name, ids[family.name], other, ids[other])
    return ids


@pytest.mark.parametrize("form", LIST_FORMS)
@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_list_parameters_in_every_form_return_exactly_what_was_asked(
    sdk: HubSpot, records: dict[str, str], family: Family, form: str
) -> None:
    # Regression: the sandbox read only the last value of a repeated parameter, so the SDK asking for
    # three properties got one back.
    spell = LIST_FORMS[form]
    api, record_id = family.api(sdk), records[family.name]
    wanted = set(family.requested) | family.always
    history = family.requested[::-1]
    one = api.basic_api.get_by_id(
        record_id,
        properties=spell(family.requested),
        properties_with_history=spell(history),
        associations=spell(family.associated),
    )
    assert set(one.properties) == wanted
    assert set(one.properties_with_history) == set(history)
    assert len(one.properties_with_history[family.requested[0]]) == 2
    assert set(one.associations) == set(family.associated)
    assert one.associations[family.associated[0]].results[0].id == records[family.associated[0]]

    page = api.basic_api.get_page(
        properties=spell(family.requested),
        properties_with_history=spell(history),
        associations=spell(family.associated),
    )
    [listed] = page.results
    assert listed.id == record_id and set(listed.properties) == wanted
    assert set(listed.properties_with_history) == set(history)
    assert set(listed.associations) == set(family.associated)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_batch_read_and_search_return_exactly_the_listed_properties(
    sdk: HubSpot, records: dict[str, str], family: Family
) -> None:
    api, record_id = family.api(sdk), records[family.name]
    wanted = set(family.requested) | family.always
    read = api.batch_api.read(
        {
            "inputs": [{"id": record_id}],
            "properties": family.requested,
            "propertiesWithHistory": family.requested[:2],
        }
    )
    [result] = read.results
    assert set(result.properties) == wanted
    assert set(result.properties_with_history) == set(family.requested[:2])
    found = api.search_api.do_search(
        {
            "filterGroups": [
                {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": record_id}]}
            ],
            "properties": family.requested,
        }
    )
    assert [r.id for r in found.results] == [record_id]
    assert set(found.results[0].properties) == wanted


def test_properties_api_lists_exactly_the_named_properties(sdk: HubSpot) -> None:
    # The SDK's `properties` here is one string, so it can only send the comma-separated form.
    names = ["email", "firstname", "jobtitle"]
    listed = sdk.crm.properties.core_api.get_all("contacts", properties=",".join(names))
    assert sorted(p.name for p in listed.results) == sorted(names)
    spaced = sdk.crm.properties.core_api.get_all("contacts", properties=" email , firstname ")
    assert sorted(p.name for p in spaced.results) == ["email", "firstname"]
    read = sdk.crm.properties.batch_api.read(
        "contacts",
        properties.BatchReadInputPropertyName(
            archived=False, inputs=[properties.PropertyName(name=name) for name in names]
        ),
    )
    assert sorted(p.name for p in read.results) == sorted(names)


def test_associations_v4_batch_read_answers_every_listed_record(
    sdk: HubSpot, records: dict[str, str]
) -> None:
    second = sdk.crm.contacts.basic_api.create({"properties": {"email": "bo@x.com"}}).id
    sdk.crm.associations.v4.basic_api.create_default("contacts", second, "companies", records["companies"])
    read = sdk.crm.associations.v4.batch_api.get_page(
        "contacts",
        "companies",
        v4.BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[
                v4.PublicFetchAssociationsBatchRequest(id=records["contacts"]),
                v4.PublicFetchAssociationsBatchRequest(id=second),
            ]
        ),
    )
    assert sorted(r._from.id for r in read.results) == sorted([records["contacts"], second])
    assert {r.to[0].to_object_id for r in read.results} == {records["companies"]}
    page = sdk.crm.associations.v4.basic_api.get_page("companies", records["companies"], "contacts", limit=1)
    assert len(page.results) == 1 and page.paging.next.after


def test_contacts_crud_batch_search_merge_and_gdpr(sdk: HubSpot) -> None:
    api = sdk.crm.contacts
    created = api.basic_api.create(
        contacts.SimplePublicObjectInputForCreate(properties={"email": "sdk@x.com"})
    )
    assert created.id.isdigit() and created.properties["email"] == "sdk@x.com"
    with pytest.raises(ContactsError) as conflict:
        api.basic_api.create(contacts.SimplePublicObjectInputForCreate(properties={"email": "sdk@x.com"}))
    assert conflict.value.status == 409 and f"Existing ID: {created.id}" in conflict.value.body
    assert api.basic_api.get_by_id("sdk@x.com", id_property="email").id == created.id
    updated = api.basic_api.update(
        created.id, contacts.SimplePublicObjectInput(properties={"firstname": "S"})
    )
    assert updated.properties["firstname"] == "S"
    upserted = api.batch_api.upsert(
        contacts.BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                contacts.SimplePublicObjectBatchInputUpsert(
                    id="sdk@x.com", id_property="email", properties={"lastname": "K"}
                ),
                contacts.SimplePublicObjectBatchInputUpsert(
                    id="two@x.com", id_property="email", properties={"lastname": "T"}
                ),
            ]
        )
    )
    assert sorted(r.new for r in upserted.results) == [False, True]
    read = api.batch_api.read(
        contacts.BatchReadInputSimplePublicObjectId(
            inputs=[contacts.SimplePublicObjectId(id=created.id)],
            properties=["lastname"],
            properties_with_history=[],
        )
    )
    assert read.results[0].properties["lastname"] == "K"
    batch_created = api.batch_api.create(
        contacts.BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                contacts.SimplePublicObjectBatchInputForCreate(
                    properties={"email": "three@x.com"}, associations=[]
                )
            ]
        )
    )
    third = batch_created.results[0].id
    api.batch_api.update(
        contacts.BatchInputSimplePublicObjectBatchInput(
            inputs=[contacts.SimplePublicObjectBatchInput(id=third, properties={"firstname": "Three"})]
        )
    )
    found = api.search_api.do_search(
        contacts.PublicObjectSearchRequest(
            filter_groups=[
                contacts.FilterGroup(
                    filters=[contacts.Filter(property_name="lastname", operator="EQ", value="k")]
                )
            ],
            sorts=["createdate"],
            properties=["email"],
            limit=10,
            after="0",
        )
    )
    assert found.total == 1 and found.results[0].id == created.id
    page = api.basic_api.get_page(limit=2)
    assert len(page.results) == 2 and page.paging.next.after
    two = next(r.id for r in upserted.results if r.new)
    merged = api.basic_api.merge(
        contacts.PublicMergeInput(primary_object_id=created.id, object_id_to_merge=two)
    )
    assert two in merged.properties["hs_merged_object_ids"].split(";")
    api.basic_api.purge(contacts.PublicGdprDeleteInput(object_id=third))
    api.batch_api.archive(
        contacts.BatchInputSimplePublicObjectId(inputs=[contacts.SimplePublicObjectId(id=merged.id)])
    )
    with pytest.raises(ContactsError) as missing:
        api.basic_api.get_by_id(merged.id)
    assert missing.value.status == 404
    api.basic_api.archive(third)  # already gone: still 204


def test_companies_notes_and_emails(sdk: HubSpot) -> None:
    company = sdk.crm.companies.basic_api.create(
        contacts.SimplePublicObjectInputForCreate(properties={"name": "Acme", "domain": "acme.com"})
    )
    assert company.properties["domain"] == "acme.com"
    note = sdk.crm.objects.notes.basic_api.create(
        notes.SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": "2024-01-01T00:00:00Z", "hs_note_body": "Called"},
            associations=[
                notes.PublicAssociationsForObject(
                    to=notes.PublicObjectId(id=company.id),
                    types=[
                        notes.AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=190)
                    ],
                )
            ],
        )
    )
    assert note.properties["hs_note_body"] == "Called"
    emails = sdk.crm.objects.emails.batch_api.create(
        {
            "inputs": [
                {
                    "properties": {
                        "hs_timestamp": "1700000000000",
                        "hs_email_direction": "EMAIL",
                        "hs_email_subject": "Hi",
                    },
                    "associations": [],
                }
            ]
        }
    )
    assert emails.results[0].properties["hs_email_subject"] == "Hi"
    assert sdk.crm.objects.emails.search_api.do_search({"query": "Hi"}).total == 1


def test_properties_and_groups(sdk: HubSpot) -> None:
    core = sdk.crm.properties.core_api
    created = core.create(
        "contacts",
        properties.PropertyCreate(
            name="cc_lead_id",
            label="Lead id",
            type="string",
            field_type="text",
            group_name="contactinformation",
            has_unique_value=True,
        ),
    )
    assert created.has_unique_value is True
    assert core.get_by_name("contacts", "cc_lead_id").name == "cc_lead_id"
    assert "cc_lead_id" in {p.name for p in core.get_all("contacts").results}
    core.update("contacts", "cc_lead_id", properties.PropertyUpdate(label="Lead"))
    group = sdk.crm.properties.groups_api.create(
        "contacts", properties.PropertyGroupCreate(name="cc", label="CC")
    )
    assert group.name == "cc" and sdk.crm.properties.groups_api.get_by_name("contacts", "cc").label == "CC"
    read = sdk.crm.properties.batch_api.read(
        "contacts",
        properties.BatchReadInputPropertyName(archived=False, inputs=[properties.PropertyName(name="email")]),
    )
    assert read.results[0].name == "email"
    core.archive("contacts", "cc_lead_id")
    with pytest.raises(properties.ApiException) as error:
        core.create(
            "contacts",
            properties.PropertyCreate(
                name="bad", label="B", type="number", field_type="text", group_name="contactinformation"
            ),
        )
    assert error.value.status == 400


def test_associations_v4(sdk: HubSpot) -> None:
    contact = sdk.crm.contacts.basic_api.create(
        contacts.SimplePublicObjectInputForCreate(properties={"email": "a@x.com"})
    )
    company = sdk.crm.companies.basic_api.create(
        contacts.SimplePublicObjectInputForCreate(properties={"name": "A"})
    )
    basic, batch = sdk.crm.associations.v4.basic_api, sdk.crm.associations.v4.batch_api
    basic.create_default("contacts", contact.id, "companies", company.id)
    labels = basic.create(
        "contacts",
        contact.id,
        "companies",
        company.id,
        [v4.AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )
    assert labels.labels == ["Primary"]
    page = basic.get_page("contacts", contact.id, "companies")
    assert {t.type_id for t in page.results[0].association_types} == {1, 279}
    read = batch.get_page(
        "companies",
        "contacts",
        v4.BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[v4.PublicFetchAssociationsBatchRequest(id=company.id)]
        ),
    )
    assert read.results[0].to[0].to_object_id == contact.id
    batch.archive_labels(
        "contacts",
        "companies",
        v4.BatchInputPublicAssociationMultiPost(
            inputs=[
                v4.PublicAssociationMultiPost(
                    _from=v4.PublicObjectId(id=contact.id),
                    to=v4.PublicObjectId(id=company.id),
                    types=[v4.AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
                )
            ]
        ),
    )
    batch.archive(
        "contacts",
        "companies",
        v4.BatchInputPublicAssociationMultiArchive(
            inputs=[
                v4.PublicAssociationMultiArchive(
                    _from=v4.PublicObjectId(id=contact.id), to=[v4.PublicObjectId(id=company.id)]
                )
            ]
        ),
    )
    batch.create_default(
        "contacts",
        "companies",
        v4.BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                v4.PublicDefaultAssociationMultiPost(
                    _from=v4.PublicObjectId(id=contact.id), to=v4.PublicObjectId(id=company.id)
                )
            ]
        ),
    )
    basic.archive("contacts", contact.id, "companies", company.id)
    assert basic.get_page("contacts", contact.id, "companies").results == []


def test_timeline_templates_and_events(
    hubspot_sandbox: SandboxHandle, client: Callable[..., HubSpot]
) -> None:
    developer = client(api_key=hubspot_sandbox.developer_api_key)
    app = hubspot_sandbox.app_id
    template = developer.crm.timeline.templates_api.create(
        app,
        timeline.TimelineEventTemplateCreateRequest(
            name="Opened",
            object_type="contacts",
            header_template="Opened {{subject}}",
            detail_template="Subject: {{subject}}",
            tokens=[
                timeline.TimelineEventTemplateToken(
                    name="subject", label="Subject", type="string", options=[]
                )
            ],
        ),
    )
    assert developer.crm.timeline.templates_api.get_by_id(template.id, app).name == "Opened"
    assert [t.id for t in developer.crm.timeline.templates_api.get_all(app).results] == [template.id]
    developer.crm.timeline.tokens_api.create(
        template.id,
        app,
        timeline.TimelineEventTemplateToken(name="clicks", label="Clicks", type="number", options=[]),
    )
    developer.crm.timeline.tokens_api.update(
        template.id,
        "clicks",
        app,
        timeline.TimelineEventTemplateTokenUpdateRequest(label="Clicks!", options=[]),
    )
    developer.crm.timeline.tokens_api.archive(template.id, "clicks", app)
    developer.crm.timeline.templates_api.update(
        template.id,
        app,
        timeline.TimelineEventTemplateUpdateRequest(
            id=template.id,
            name="Opened email",
            header_template="Opened {{subject}}",
            detail_template="Subject: {{subject}}",
            tokens=[
                timeline.TimelineEventTemplateToken(
                    name="subject", label="Subject", type="string", options=[]
                )
            ],
        ),
    )

    oauth = client(access_token=hubspot_sandbox.admin.issue_oauth_token()["access_token"])
    event = timeline.TimelineEvent(
        event_template_id=template.id, id="e-1", email="t@x.com", tokens={"subject": "Hi"}
    )
    created = oauth.crm.timeline.events_api.create(event)
    assert created.id == "e-1" and created.object_type == "contacts"
    with pytest.raises(timeline.ApiException) as duplicate:
        oauth.crm.timeline.events_api.create(event)
    assert duplicate.value.status == 409
    # SDK 12 maps no response body for batch/create (it returns None); the event is read back instead.
    oauth.crm.timeline.events_api.create_batch(
        timeline.BatchInputTimelineEvent(
            inputs=[
                timeline.TimelineEvent(
                    event_template_id=template.id, id="e-2", email="t@x.com", tokens={"subject": "Yo"}
                )
            ]
        )
    )
    assert oauth.crm.timeline.events_api.get_by_id(template.id, "e-2").tokens == {"subject": "Yo"}
    assert oauth.crm.timeline.events_api.get_by_id(template.id, "e-1").tokens == {"subject": "Hi"}
    assert oauth.crm.timeline.events_api.get_detail_by_id(template.id, "e-1").details == "Subject: Hi"
    assert "Opened Hi" in oauth.crm.timeline.events_api.get_render_by_id(template.id, "e-1")
    # The SDK sends detail=True (Python's spelling), which HubSpot reads as true.
    assert "Subject: Hi" in oauth.crm.timeline.events_api.get_render_by_id(template.id, "e-1", detail=True)
    developer.crm.timeline.templates_api.archive(template.id, app)


def test_webhook_settings_and_subscriptions(
    hubspot_sandbox: SandboxHandle, client: Callable[..., HubSpot]
) -> None:
    developer = client(api_key=hubspot_sandbox.developer_api_key)
    app = hubspot_sandbox.app_id
    settings = developer.webhooks.settings_api.configure(
        app,
        SettingsChangeRequest(
            target_url="https://example.com/hooks", throttling=ThrottlingSettings(max_concurrent_requests=10)
        ),
    )
    assert settings.target_url == "https://example.com/hooks"
    assert developer.webhooks.settings_api.get_all(app).throttling.max_concurrent_requests == 10
    subscription = developer.webhooks.subscriptions_api.create(
        app,
        SubscriptionCreateRequest(event_type="contact.propertyChange", property_name="email", active=True),
    )
    assert developer.webhooks.subscriptions_api.get_by_id(subscription.id, app).property_name == "email"
    developer.webhooks.subscriptions_api.update(subscription.id, app, SubscriptionPatchRequest(active=False))
    developer.webhooks.subscriptions_api.update_batch(
        app, {"inputs": [{"id": int(subscription.id), "active": True}]}
    )
    assert developer.webhooks.subscriptions_api.get_all(app).results[0].active is True
    developer.webhooks.subscriptions_api.archive(subscription.id, app)
    developer.webhooks.settings_api.clear(app)


def test_oauth_tokens(hubspot_sandbox: SandboxHandle, client: Callable[..., HubSpot]) -> None:
    anonymous = client()
    issued = hubspot_sandbox.admin.issue_oauth_token()
    refreshed = anonymous.oauth.tokens_api.create(
        grant_type="refresh_token",
        refresh_token=issued["refresh_token"],
        client_id=hubspot_sandbox.client_id,
        client_secret=hubspot_sandbox.client_secret,
    )
    assert refreshed.expires_in == 1800 and refreshed.refresh_token == issued["refresh_token"]
    info = anonymous.oauth.access_tokens_api.get(refreshed.access_token)
    assert info.hub_id == hubspot_sandbox.hub_id
    assert (
        anonymous.oauth.refresh_tokens_api.get(issued["refresh_token"]).client_id == hubspot_sandbox.client_id
    )
    anonymous.oauth.refresh_tokens_api.archive(issued["refresh_token"])
    with pytest.raises(OAuthError) as error:
        anonymous.oauth.tokens_api.create(
            grant_type="refresh_token",
            refresh_token=issued["refresh_token"],
            client_id=hubspot_sandbox.client_id,
            client_secret=hubspot_sandbox.client_secret,
        )
    assert error.value.status == 400 and "BAD_REFRESH_TOKEN" in error.value.body
