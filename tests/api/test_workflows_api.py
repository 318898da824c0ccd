"""The /workflows endpoints against the sandbox over HTTP, a local custom-action receiver and PostgreSQL:
bad triggers refused with messages (attacker's input first), saving, listing, deleting with history kept,
testing without side effects, processing ColdCopy's events into enrolments, property updates and signed
custom actions, each once; workspace isolation on every route; the `automation` scope in GET /config.
The Dagster path (sensor, job, crash recovery) is tests/defs/test_workflow_runs.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from api_support import Tenant, make_tenant, url
from fastapi.testclient import TestClient
from test_oauth import connect

from hubspot_pipeline.db.tables import (
    audit_log,
    email_events,
    email_messages,
    hubspot_workflow_executions,
    hubspot_workflow_triggers,
)
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.settings import get_settings
from hubspot_pipeline.sync.connection import workspace_client
from hubspot_pipeline.workflows.custom_action import workspace_signing_secret
from tests.activities.builders import add_lead, sync_contacts
from tests.workflows.receiver import Receiver, run_receiver

WORKFLOW_ID = 5150


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch):
    """The local receiver is on 127.0.0.1 over http: the setting that allows it."""
    monkeypatch.setenv("WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS")
    get_settings.cache_clear()


@pytest.fixture
def portal(client: TestClient, engine: sa.Engine, sandbox_api: SandboxHandle) -> tuple[Tenant, int, str]:
    """A workspace connected over OAuth to a new portal with one contact workflow; returns its flow id."""
    tenant = make_tenant(engine, connected=False)
    hub_id, _, _ = connect(client, tenant, sandbox_api)
    flow = sandbox_api.admin.add_flow("Hot leads", workflow_id=WORKFLOW_ID, hub_id=hub_id)
    return tenant, hub_id, flow["id"]


def lead_in_hubspot(engine: sa.Engine, tenant: Tenant, email: str) -> uuid.UUID:
    lead_id = add_lead(engine, tenant.workspace_id, email)
    client = workspace_client(engine, tenant.workspace_id)
    try:
        sync_contacts(engine, client, tenant.workspace_id)
    finally:
        client.close()
    return lead_id


def enroll_trigger(flow_id: str, **extra) -> dict:
    return {
        "name": "Interested replies to the hot-leads workflow",
        "event_type": "positive_reply",
        "actions": [{"type": "enroll", "flow_id": flow_id}],
        **extra,
    }


def reply(lead_id: uuid.UUID, text: str = "Yes, I'm interested - let's set up a call next week.") -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "replied",
        "lead_id": str(lead_id),
        "occurred_at": datetime.now(UTC).isoformat(),
        "message": {
            "message_id_header": f"<{uuid.uuid4().hex}@mail.example.com>",
            "subject": "Re: hi",
            "text": text,
        },
    }


# -- refused, with messages -------------------------------------------------------------------------------
def test_a_trigger_naming_what_the_portal_lacks_is_refused_naming_each(client, portal) -> None:
    tenant, _, _ = portal
    body = {
        "name": "bad",
        "event_type": "email_opened",
        "actions": [
            {"type": "enroll", "flow_id": "999999"},
            {"type": "enroll", "workflow_id": "424242"},
            {
                "type": "update_properties",
                "properties": {"no_such_property": "x", "firstname": "{{lead.first_name}}"},
            },
        ],
    }
    response = client.post(url("/workflows"), json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["details"]
    assert any("'no_such_property' does not exist" in p for p in problems)
    assert any("flow) 999999 does not exist" in p for p in problems)
    assert any("workflow 424242 does not exist" in p for p in problems)
    assert not any("firstname" in p for p in problems)
    assert client.get(url("/workflows"), headers=tenant.headers).json()["triggers"] == []


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ({"field": "lead.password_hash", "op": "eq", "value": "x"}, "unknown field 'lead.password_hash'"),
        ({"field": "__import__('os').system('id')", "op": "exists"}, "unknown field"),
        ({"field": "lead.title", "op": "matches", "value": ".*"}, "conditions.0.op"),
    ],
)
def test_a_condition_on_an_unknown_field_or_operator_is_refused(client, tenant, condition, named) -> None:
    body = {
        "name": "x",
        "event_type": "email_opened",
        "conditions": [condition],
        "actions": [{"type": "custom_action", "url": "https://hooks.example.com/x"}],
    }
    response = client.post(url("/workflows"), json=body, headers=tenant.headers)
    assert response.status_code == 422 and named in response.text


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("http://hooks.example.com/x", "must use https"),
        ("https://127.0.0.1/x", "a loopback address"),
        ("https://169.254.169.254/latest/meta-data", "a link-local address"),
        ("https://10.0.0.8/x", "a private address"),
        ("https://[::1]:8443/x", "a loopback address"),
        ("https://localhost/x", "a loopback address"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
    ],
)
def test_a_custom_action_to_a_private_network_or_over_http_is_refused(client, tenant, target, named) -> None:
    body = {"name": "x", "event_type": "email_clicked", "actions": [{"type": "custom_action", "url": target}]}
    response = client.post(url("/workflows"), json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert named in response.json()["error"]["message"]


def test_a_custom_action_url_that_redirects_is_refused(client, tenant, allow_private) -> None:
    with run_receiver() as receiver:
        receiver.answer = lambda n: (302, 0.0, {"Location": "http://169.254.169.254/latest/meta-data"})
        body = {
            "name": "x",
            "event_type": "email_clicked",
            "actions": [{"type": "custom_action", "url": receiver.url}],
        }
        response = client.post(url("/workflows"), json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert "redirects are not followed" in response.json()["error"]["message"]
    assert "169.254.169.254" in response.json()["error"]["message"]
    assert len(receiver.deliveries) == 1  # the ping; nothing followed it anywhere


def test_enrolling_needs_the_automation_scope_and_old_connections_say_so(client, tenant) -> None:
    # `tenant` was connected with two scopes, as a workspace connected before triggers existed.
    config = client.get(url("/config"), headers=tenant.headers).json()["connection"]
    assert "automation" in config["missing_scopes"] and config["reconnect_for"] == ["workflow_triggers"]
    assert config["status"] == "connected"  # the sync is not stopped
    response = client.post(url("/workflows"), json=enroll_trigger("1"), headers=tenant.headers)
    assert response.status_code == 409 and "reconnect HubSpot" in response.json()["error"]["message"]


def test_a_new_connection_grants_automation(client, portal) -> None:
    tenant, _, _ = portal
    config = client.get(url("/config"), headers=tenant.headers).json()["connection"]
    assert "automation" in config["scopes"] and config["reconnect_for"] == []


# -- saving, listing, deleting ----------------------------------------------------------------------------
def test_a_trigger_is_saved_listed_updated_and_deleted_by_body_or_path_with_its_history_kept(
    client, engine, portal
) -> None:
    tenant, _, flow_id = portal
    created = client.post(url("/workflows"), json=enroll_trigger(flow_id), headers=tenant.headers)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["actions"] == [{"type": "enroll", "flow_id": flow_id, "workflow_id": str(WORKFLOW_ID)}]
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(hubspot_workflow_triggers).where(hubspot_workflow_triggers.c.id == saved["id"])
        ).one()
    assert row.hubspot_workflow_id == str(WORKFLOW_ID)

    changed = client.put(
        url("/workflows"),
        json={**enroll_trigger(flow_id), "id": saved["id"], "cooldown_minutes": 60},
        headers=tenant.headers,
    )
    assert changed.status_code == 200 and changed.json()["cooldown_minutes"] == 60
    listed = client.get(url("/workflows"), headers=tenant.headers).json()
    assert [t["id"] for t in listed["triggers"]] == [saved["id"]]
    assert listed["triggers"][0]["recent_executions"] == {
        "pending": 0,
        "success": 0,
        "failed": 0,
        "skipped": 0,
    }
    assert listed["signing_secret"] == workspace_signing_secret(tenant.workspace_id)

    second = client.post(
        url("/workflows"), json=enroll_trigger(flow_id, name="two"), headers=tenant.headers
    ).json()
    assert client.request(
        "DELETE", url("/workflows"), json={"id": saved["id"]}, headers=tenant.headers
    ).json() == {"deleted": saved["id"]}
    assert client.delete(url(f"/workflows/{second['id']}"), headers=tenant.headers).status_code == 200
    assert client.delete(url(f"/workflows/{second['id']}"), headers=tenant.headers).status_code == 404
    assert client.get(url("/workflows"), headers=tenant.headers).json()["triggers"] == []
    with engine.connect() as conn:
        kept = conn.execute(
            sa.select(hubspot_workflow_triggers.c.deleted_at).where(
                hubspot_workflow_triggers.c.id == saved["id"]
            )
        ).scalar_one()
        actions = [
            r.action
            for r in conn.execute(
                sa.select(audit_log.c.action)
                .where(audit_log.c.workspace_id == tenant.workspace_id)
                .order_by(audit_log.c.id)
            )
            if r.action.startswith("workflows.")
        ]
    assert kept is not None
    assert actions == [
        "workflows.create",
        "workflows.update",
        "workflows.create",
        "workflows.delete",
        "workflows.delete",
    ]


# -- testing has no side effects -------------------------------------------------------------------------
def test_a_trigger_is_tested_against_a_lead_with_each_condition_and_no_side_effect(
    client, engine, tenant
) -> None:
    lead_id = add_lead(engine, tenant.workspace_id, "ada@analytical.example.com")
    trigger = {
        "name": "hot",
        "event_type": "high_engagement",
        "threshold": 70,
        "conditions": [
            {"field": "lead.company", "op": "eq", "value": "analytical"},
            {"field": "engagement.opened", "op": "gte", "value": 0},
        ],
        "actions": [
            {"type": "update_properties", "properties": {"coldcopy_hot": "score {{event.new_score}}"}}
        ],
    }
    body = {
        "trigger": trigger,
        "lead_id": str(lead_id),
        "event": {"kind": "score_changed", "fields": {"old_score": 50, "new_score": 80}},
    }
    response = client.post(url("/workflows/test"), json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["matches"] is True
    assert [(c["field"], c["actual"], c["passed"]) for c in result["conditions"]] == [
        ("lead.company", "Analytical", True),
        ("engagement.opened", 0, True),
    ]
    assert result["actions"] == [
        {
            "label": "0:update_properties",
            "type": "update_properties",
            "properties": {"coldcopy_hot": "score 80"},
        }
    ]
    below = client.post(
        url("/workflows/test"),
        json={**body, "event": {"kind": "score_changed", "fields": {"old_score": 50, "new_score": 60}}},
        headers=tenant.headers,
    ).json()
    assert below["matches"] is False and "did not cross 70" in below["reason"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(hubspot_workflow_executions)
                .where(hubspot_workflow_executions.c.workspace_id == tenant.workspace_id)
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(hubspot_workflow_triggers)
                .where(hubspot_workflow_triggers.c.workspace_id == tenant.workspace_id)
            ).scalar_one()
            == 0
        )


# -- processing ColdCopy's events ----------------------------------------------------------------------
def test_a_positive_reply_enrolls_the_contact_once_however_often_it_is_posted(
    client, engine, portal, sandbox_api
) -> None:
    tenant, hub_id, flow_id = portal
    lead_id = lead_in_hubspot(engine, tenant, "keen@buyer.example.com")
    assert (
        client.post(url("/workflows"), json=enroll_trigger(flow_id), headers=tenant.headers).status_code
        == 201
    )
    event = reply(lead_id)
    first = client.post(url("/workflows/process"), json=event, headers=tenant.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["stored"] is True and body["intent"]["intent"] == "interested"
    [execution] = body["executions"]
    assert execution["status"] == "success" and execution["response"]["0:enroll"]["status"] == 204
    again = client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()
    assert again["stored"] is False and [e["id"] for e in again["executions"]] == [execution["id"]]
    enrolled = [e for e in sandbox_api.admin.enrollments(hub_id=hub_id) if e["workflowId"] == WORKFLOW_ID]
    assert [e["email"] for e in enrolled] == ["keen@buyer.example.com"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(email_events)
                .where(email_events.c.id == event["event_id"])
            ).scalar_one()
            == 1
        )
        assert (
            conn.execute(
                sa.select(email_messages.c.intent).where(
                    email_messages.c.message_id_header == event["message"]["message_id_header"]
                )
            ).scalar_one()
            == "interested"
        )


def test_a_reply_that_is_not_interested_enrolls_nothing(client, engine, portal, sandbox_api) -> None:
    tenant, hub_id, flow_id = portal
    lead_id = lead_in_hubspot(engine, tenant, "nope@buyer.example.com")
    client.post(url("/workflows"), json=enroll_trigger(flow_id), headers=tenant.headers)
    body = client.post(
        url("/workflows/process"), json=reply(lead_id, "Not interested, thanks."), headers=tenant.headers
    ).json()
    assert body["intent"]["intent"] == "not_interested" and body["executions"] == []
    assert sandbox_api.admin.enrollments(hub_id=hub_id) == []


def test_an_open_sets_contact_properties_from_lead_and_event_fields(
    client, engine, portal, sandbox_api
) -> None:
    tenant, _, _ = portal
    lead_in_hubspot(engine, tenant, "opener@buyer.example.com")
    trigger = {
        "name": "opened",
        "event_type": "email_opened",
        "actions": [
            {
                "type": "update_properties",
                "properties": {"jobtitle": "{{lead.first_name}} opened ({{event.type}})"},
            }
        ],
    }
    assert client.post(url("/workflows"), json=trigger, headers=tenant.headers).status_code == 201
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "opened",
        "email": "OPENER@buyer.example.com",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    body = client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()
    assert [e["status"] for e in body["executions"]] == ["success"]
    contact_id = body["executions"][0]["hubspot_contact_id"]
    api = workspace_client(engine, tenant.workspace_id)
    try:
        contact = api.get("contacts", contact_id, properties=["jobtitle"])
    finally:
        api.close()
    assert contact["properties"]["jobtitle"] == "Ada opened (opened)"


@pytest.fixture
def receiver(allow_private) -> Iterator[Receiver]:
    """A local custom-action endpoint the workspace's triggers may post to."""
    with run_receiver() as endpoint:
        yield endpoint


def save_custom_action_trigger(
    client, tenant: Tenant, receiver: Receiver, name: str, event_type: str
) -> None:
    """A trigger on `event_type` whose one action posts to the receiver (which gets a ping on save)."""
    trigger = {
        "name": name,
        "event_type": event_type,
        "actions": [{"type": "custom_action", "url": receiver.url}],
    }
    assert client.post(url("/workflows"), json=trigger, headers=tenant.headers).status_code == 201


def new_event(event_type: str, lead_id: uuid.UUID, **fields: str) -> dict:
    """A ColdCopy event of the lead, with an id of its own, happening now."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "lead_id": str(lead_id),
        "occurred_at": datetime.now(UTC).isoformat(),
        **fields,
    }


def test_a_custom_action_is_signed_and_keyed_and_sent_once(client, engine, tenant, receiver) -> None:
    lead_id = add_lead(engine, tenant.workspace_id, "clicker@buyer.example.com")
    save_custom_action_trigger(client, tenant, receiver, "clicked", "email_clicked")
    event = new_event("clicked", lead_id, link_url="https://coldcopy.example.com/pricing")
    first = client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()
    client.post(url("/workflows/process"), json=event, headers=tenant.headers)
    assert [e["status"] for e in first["executions"]] == ["success"]
    [delivery] = receiver.actions()
    secret = workspace_signing_secret(tenant.workspace_id)
    assert delivery.signed_with(secret) and not delivery.signed_with(secret + "x")
    assert delivery.headers["Idempotency-Key"] == f"{first['executions'][0]['id']}:0:custom_action"
    assert delivery.json["event"]["fields"]["link_url"] == "https://coldcopy.example.com/pricing"
    assert delivery.json["lead"]["email"] == "clicker@buyer.example.com"


def test_a_failing_receiver_is_retried_with_the_same_key_then_left_pending_with_the_error(
    client, engine, tenant, receiver
) -> None:
    lead_id = add_lead(engine, tenant.workspace_id, "down@buyer.example.com")
    save_custom_action_trigger(client, tenant, receiver, "bounced", "email_bounced")
    receiver.answer = lambda n: (503, 0.0, {})
    event = new_event("bounced", lead_id, bounce_reason="mailbox full")
    body = client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()
    [execution] = body["executions"]
    assert execution["status"] == "pending" and execution["attempts"] == 1 and execution["next_attempt_at"]
    assert "HTTP 503" in execution["error"] and body["queued"] == 1
    keys = {d.headers["Idempotency-Key"] for d in receiver.actions()}
    assert len(receiver.actions()) == 3 and keys == {f"{execution['id']}:0:custom_action"}


def test_an_unsubscribe_event_fires_unsubscribe_triggers(client, engine, tenant, receiver) -> None:
    lead_id = add_lead(engine, tenant.workspace_id, "bye@buyer.example.com")
    save_custom_action_trigger(client, tenant, receiver, "gone", "unsubscribe")
    event = new_event("unsubscribed", lead_id)
    body = client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()
    removal = client.post(
        url("/workflows/process"),
        json=reply(lead_id, "Please remove me from your list."),
        headers=tenant.headers,
    ).json()
    assert [e["status"] for e in body["executions"]] == ["success"]
    assert removal["intent"]["intent"] == "unsubscribe_request" and [
        e["status"] for e in removal["executions"]
    ] == ["success"]
    assert len(receiver.actions()) == 2


def test_a_contact_not_yet_in_hubspot_waits(client, engine, portal) -> None:
    tenant, _, _ = portal
    lead_id = add_lead(engine, tenant.workspace_id, "new@buyer.example.com")  # no contact sync yet
    trigger = {
        "name": "o",
        "event_type": "email_opened",
        "actions": [{"type": "update_properties", "properties": {"jobtitle": "x"}}],
    }
    client.post(url("/workflows"), json=trigger, headers=tenant.headers)
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "opened",
        "lead_id": str(lead_id),
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    [execution] = client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()[
        "executions"
    ]
    assert execution["status"] == "pending" and execution["attempts"] == 0
    assert "waiting for the lead's contact" in execution["error"]


def test_a_disabled_trigger_never_fires(client, engine, tenant, allow_private) -> None:
    lead_id = add_lead(engine, tenant.workspace_id, "quiet@buyer.example.com")
    trigger = {
        "name": "off",
        "enabled": False,
        "event_type": "email_opened",
        "actions": [{"type": "custom_action", "url": "http://127.0.0.1:9/never"}],
    }
    client.post(url("/workflows"), json=trigger, headers=tenant.headers)
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "opened",
        "lead_id": str(lead_id),
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    assert (
        client.post(url("/workflows/process"), json=event, headers=tenant.headers).json()["executions"] == []
    )


# -- isolation -------------------------------------------------------------------------------------------
def test_a_workspace_never_reaches_another_workspaces_triggers_leads_or_events(
    client, engine, tenant, other_tenant, allow_private
) -> None:
    theirs = client.post(
        url("/workflows"),
        json={
            "name": "b",
            "event_type": "email_opened",
            "actions": [{"type": "custom_action", "url": "http://127.0.0.1:9/b"}],
        },
        headers=other_tenant.headers,
    ).json()
    their_lead = add_lead(engine, other_tenant.workspace_id, "theirs@b.example.com")
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "opened",
        "lead_id": str(their_lead),
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    assert client.post(url("/workflows/process"), json=event, headers=other_tenant.headers).status_code == 200
    mine = client.get(url("/workflows"), headers=tenant.headers).json()
    assert mine["triggers"] == [] and theirs["id"] not in str(mine)
    same = {
        "name": "b",
        "event_type": "email_opened",
        "actions": [{"type": "custom_action", "url": "http://127.0.0.1:9/a"}],
    }
    assert (
        client.put(url("/workflows"), json={**same, "id": theirs["id"]}, headers=tenant.headers).status_code
        == 404
    )
    assert (
        client.request(
            "DELETE", url("/workflows"), json={"id": theirs["id"]}, headers=tenant.headers
        ).status_code
        == 404
    )
    assert client.delete(url(f"/workflows/{theirs['id']}"), headers=tenant.headers).status_code == 404
    tested = client.post(
        url("/workflows/test"),
        json={"trigger_id": theirs["id"], "event": {"kind": "opened"}},
        headers=tenant.headers,
    )
    assert tested.status_code == 404
    tested = client.post(
        url("/workflows/test"),
        json={"trigger": same, "lead_id": str(their_lead), "event": {"kind": "opened"}},
        headers=tenant.headers,
    )
    assert tested.status_code == 404
    assert (
        client.post(
            url("/workflows/process"), json={**event, "event_id": str(uuid.uuid4())}, headers=tenant.headers
        ).status_code
        == 404
    )
    mine_lead = add_lead(engine, tenant.workspace_id, "mine@a.example.com")
    taken = client.post(
        url("/workflows/process"), json={**event, "lead_id": str(mine_lead)}, headers=tenant.headers
    )
    assert taken.status_code == 409 and theirs["id"] not in taken.text
    for method, path, body in [
        ("GET", "/workflows", None),
        ("POST", "/workflows", same),
        ("PUT", "/workflows", {**same, "id": theirs["id"]}),
        ("DELETE", "/workflows", {"id": theirs["id"]}),
        ("DELETE", f"/workflows/{theirs['id']}", None),
        ("POST", "/workflows/test", {"trigger": same, "event": {"kind": "opened"}}),
        ("POST", "/workflows/process", event),
    ]:
        named = client.request(
            method,
            url(path),
            json=body,
            headers={**tenant.headers, "X-Workspace-Id": str(other_tenant.workspace_id)},
        )
        assert named.status_code == 403, (method, path)
        assert client.request(method, url(path), json=body).status_code == 401, (method, path)
    assert (
        client.get(url("/workflows"), headers=other_tenant.headers).json()["triggers"][0]["id"]
        == theirs["id"]
    )


@pytest.mark.parametrize(
    "where",
    ["email", "link_url", "metadata", "message subject", "message text", "message header"],
)
def test_a_nul_anywhere_in_a_posted_event_is_refused_and_nothing_is_stored(
    client, engine, tenant, where: str
) -> None:
    # Regression (schemathesis): a NUL (\u0000) in the email reached PostgreSQL, which cannot store one in
    # text: a 500. Every string of the body is refused alike, before anything is written.
    lead_id = add_lead(engine, tenant.workspace_id, "nul@buyer.example.com")
    event = reply(lead_id) if where.startswith("message") else new_event("clicked", lead_id)
    if where == "email":
        event = {**new_event("clicked", lead_id), "email": "nul\u0000@buyer.example.com"}
        del event["lead_id"]
    elif where == "link_url":
        event["link_url"] = "https://example.com/\u0000"
    elif where == "metadata":
        event["metadata"] = {"campaign": "spring\u0000"}
    elif where == "message subject":
        event["message"]["subject"] = "Re: \u0000"
    elif where == "message text":
        event["message"]["text"] = "Sure\u0000"
    else:
        event["message"]["headers"] = {"X-Mailer": "a\u0000b"}
    with engine.connect() as conn:
        before = conn.execute(
            sa.text("SELECT count(*) FROM email_events WHERE workspace_id = :w"), {"w": tenant.workspace_id}
        ).scalar_one()
    response = client.post(url("/workflows/process"), json=event, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["error"]["message"]
    with engine.connect() as conn:
        after = conn.execute(
            sa.text("SELECT count(*) FROM email_events WHERE workspace_id = :w"), {"w": tenant.workspace_id}
        ).scalar_one()
    assert after == before
