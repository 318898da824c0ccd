"""HubSpot's own Python SDK (hubspot-api-client 12) drives the sandbox through every endpoint it covers
that the sandbox serves: objects, batch, search, merge, GDPR, properties, associations v4, timeline,
webhooks and OAuth. Each call succeeds or fails as HubSpot documents (the SDK's models also reject
responses that lack required fields)."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm import contacts, properties, timeline
from hubspot.crm.associations import v4
from hubspot.crm.contacts.exceptions import ApiException as ContactsError
from hubspot.crm.objects import notes
from hubspot.oauth.exceptions import ApiException as OAuthError
from hubspot.webhooks import (
    SettingsChangeRequest,
    SubscriptionCreateRequest,
    SubscriptionPatchRequest,
    ThrottlingSettings,
)

from hubspot_pipeline.sandbox.testing import SandboxHandle


def _client(sandbox: SandboxHandle, **credentials: str) -> HubSpot:
    return HubSpot(host=sandbox.base_url, **credentials)


@pytest.fixture
def sdk(hubspot_sandbox: SandboxHandle) -> HubSpot:
    hubspot_sandbox.admin.configure(rate_limits_enabled=False)
    return _client(hubspot_sandbox, access_token=hubspot_sandbox.private_app_token)


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


def test_timeline_templates_and_events(hubspot_sandbox: SandboxHandle) -> None:
    developer = _client(hubspot_sandbox, api_key=hubspot_sandbox.developer_api_key)
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

    oauth = _client(hubspot_sandbox, access_token=hubspot_sandbox.admin.issue_oauth_token()["access_token"])
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
    developer.crm.timeline.templates_api.archive(template.id, app)


def test_webhook_settings_and_subscriptions(hubspot_sandbox: SandboxHandle) -> None:
    developer = _client(hubspot_sandbox, api_key=hubspot_sandbox.developer_api_key)
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


def test_oauth_tokens(hubspot_sandbox: SandboxHandle) -> None:
    client = _client(hubspot_sandbox)
    issued = hubspot_sandbox.admin.issue_oauth_token()
    refreshed = client.oauth.tokens_api.create(
        grant_type="refresh_token",
        refresh_token=issued["refresh_token"],
        client_id=hubspot_sandbox.client_id,
        client_secret=hubspot_sandbox.client_secret,
    )
    assert refreshed.expires_in == 1800 and refreshed.refresh_token == issued["refresh_token"]
    info = client.oauth.access_tokens_api.get(refreshed.access_token)
    assert info.hub_id == hubspot_sandbox.hub_id
    assert client.oauth.refresh_tokens_api.get(issued["refresh_token"]).client_id == hubspot_sandbox.client_id
    client.oauth.refresh_tokens_api.archive(issued["refresh_token"])
    with pytest.raises(OAuthError) as error:
        client.oauth.tokens_api.create(
            grant_type="refresh_token",
            refresh_token=issued["refresh_token"],
            client_id=hubspot_sandbox.client_id,
            client_secret=hubspot_sandbox.client_secret,
        )
    assert error.value.status == 400 and "BAD_REFRESH_TOKEN" in error.value.body
