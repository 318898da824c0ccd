"""Each condition of the issue, induced for real, raises its alert, notifies the local receiver once (a
second evaluation sends nothing more) and resolves with one resolved message: a revoked refresh token, a
stopped queue (webhook events and lead changes left waiting), a portal's daily budget at 80%. Sandbox faults
pushing a workspace's error rate up and a failed run go through Dagster runs: tests/defs/test_monitoring_runs.py.

The alerts table and the receiver are shared with whatever else the session database holds, so each test
looks only at its own alert keys. `now` is moved forward where the condition ends with time (a window, a day).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    hubspot_integrations,
    hubspot_sync_config,
    lead_changes,
    leads,
    webhook_events,
    workspaces,
)
from hubspot_pipeline.hubspot import HubSpotAuthError, OAuthApp, TokenCipher, TokenSet, TokenStore
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.connection import workspace_client
from hubspot_pipeline.sync.engine import prepare, run_contact_sync
from hubspot_pipeline.sync.properties import ensure_hubspot_properties
from tests.monitoring.alerting import Alerting, fires_once_then_resolves

_hub_ids = iter(range(800_000_000 + uuid.uuid4().int % 1_000_000 * 100, 900_000_000))


def _workspace(engine: sa.Engine, *, hub_id: int | None = None) -> uuid.UUID:
    """A workspace connected to a portal of its own (placeholder ciphertext: runs use a private-app token)."""
    slug = f"mon-{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        workspace_id = conn.execute(
            sa.insert(workspaces).values(name=slug, slug=slug).returning(workspaces.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id,
                hub_id=str(hub_id or next(_hub_ids)),
                access_token="gAAAAA-placeholder",
                refresh_token="gAAAAA-placeholder",
            )
        )
    return workspace_id


def test_a_revoked_refresh_token_raises_auth_failure_until_the_workspace_reconnects(
    alerting: Alerting, engine: sa.Engine, hubspot_sandbox: SandboxHandle
) -> None:
    slug = f"mon-{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        workspace_id = conn.execute(
            sa.insert(workspaces).values(name=slug, slug=slug).returning(workspaces.c.id)
        ).scalar_one()
    store = TokenStore(engine, TokenCipher.from_settings())

    def connect() -> None:
        issued = hubspot_sandbox.admin.issue_oauth_token(expires_in=120)  # inside the refresh margin
        store.save(
            workspace_id,
            TokenSet(
                issued["access_token"],
                issued["refresh_token"],
                dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120),
                str(issued["hub_id"]),
                tuple(issued["scopes"]),
            ),
        )

    connect()
    app = OAuthApp.from_settings(api_base_url=hubspot_sandbox.base_url)
    app.revoke(store.load(workspace_id).refresh_token)  # the user removed the app in HubSpot
    app.close()
    with workspace_client(engine, workspace_id, base_url=hubspot_sandbox.base_url) as client:
        try:
            run_contact_sync(engine, client, workspace_id)
        except HubSpotAuthError as error:
            assert error.category == "invalid_grant"
        else:
            raise AssertionError("a revoked refresh token must stop the run")
    failed_at = dt.datetime.now(dt.UTC)
    fires_once_then_resolves(
        alerting,
        [f"auth_failure:{workspace_id}"],
        connect,  # reconnected: the connection works again...
        # ...and the failed refresh has left the error window.
        failed_at + alerting.thresholds.window + dt.timedelta(minutes=1),
    )


def test_a_stopped_queue_raises_webhook_and_outbox_delays_until_a_run_drains_them(
    alerting: Alerting, engine: sa.Engine, hubspot_sandbox: SandboxHandle
) -> None:
    workspace_id = _workspace(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(leads),
            [{"workspace_id": workspace_id, "email": f"queued{i}@example.com"} for i in range(3)],
        )
        # Nothing consumed them for 11 minutes: the sensors or the daemon stopped.
        conn.execute(
            sa.update(lead_changes)
            .where(lead_changes.c.workspace_id == workspace_id)
            .values(changed_at=sa.func.now() - dt.timedelta(minutes=11))
        )
        conn.execute(
            sa.insert(webhook_events).values(
                received_at=sa.func.now() - dt.timedelta(minutes=11),
                portal_id=hubspot_sandbox.hub_id,
                workspace_id=workspace_id,
                subscription_id=1,
                event_id=uuid.uuid4().int % 10**9,
                object_id=123456789,
                occurred_at=int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)).timestamp() * 1000),
                subscription_type="contact.propertyChange",
                property_name="firstname",
                property_value="x",
                payload={},
            )
        )

    def run_the_queue() -> None:
        with workspace_client(
            engine,
            workspace_id,
            base_url=hubspot_sandbox.base_url,
            private_app_token=hubspot_sandbox.private_app_token,
        ) as client:
            ensure_hubspot_properties(prepare(engine, client, workspace_id))
            report = run_contact_sync(engine, client, workspace_id, search_lag_seconds=-3)
        assert report.counts["push"] == 3

    fires_once_then_resolves(
        alerting, [f"webhook_queue_delay:{workspace_id}", f"outbox_delay:{workspace_id}"], run_the_queue
    )


def test_a_portal_at_80_percent_of_its_daily_budget_raises_daily_budget_until_the_day_ends(
    alerting: Alerting, engine: sa.Engine, hubspot_sandbox: SandboxHandle
) -> None:
    hub_id = next(_hub_ids)
    workspace_id = _workspace(engine, hub_id=hub_id)
    hubspot_sandbox.admin.configure(daily_limit=50)
    with workspace_client(
        engine,
        workspace_id,
        base_url=hubspot_sandbox.base_url,
        private_app_token=hubspot_sandbox.private_app_token,
    ) as client:
        for _ in range(40):
            client.list_properties("contacts")
    tomorrow = dt.datetime.now(dt.UTC).replace(hour=0, minute=5) + dt.timedelta(days=1)
    fires_once_then_resolves(
        alerting,
        [f"daily_budget:hub:{hub_id}:{workspace_id}"],
        lambda: None,  # nothing to do but wait for the portal's midnight
        tomorrow,
    )


def test_a_still_firing_alert_is_reminded_every_renotify_interval_up_to_the_limit(
    alerting: Alerting, engine: sa.Engine
) -> None:
    workspace_id = _workspace(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_sync_config).values(
                workspace_id=workspace_id, connection_status="needs_reconnect"
            )
        )
    key = f"auth_failure:{workspace_id}"
    start = dt.datetime.now(dt.UTC)
    step = dt.timedelta(minutes=alerting.thresholds.renotify_minutes)
    assert key in alerting.evaluate(now=start).opened
    alerting.evaluate(now=start + step / 2)  # not due yet
    assert len(alerting.messages(key)) == 1
    for number in (2, 3):  # ALERT_MAX_NOTIFICATIONS = 3 messages in all
        alerting.evaluate(now=start + step * (number - 1))
        messages = alerting.messages(key)
        assert len(messages) == number and "still firing" in messages[-1]["title"]
    alerting.evaluate(now=start + step * 5)
    assert len(alerting.messages(key)) == 3
    with engine.begin() as conn:
        conn.execute(
            sa.update(hubspot_sync_config)
            .where(hubspot_sync_config.c.workspace_id == workspace_id)
            .values(connection_status="connected")
        )
    assert key in alerting.evaluate(now=start + step * 6).resolved
    assert "resolved" in alerting.messages(key)[-1]["title"] and len(alerting.messages(key)) == 4
