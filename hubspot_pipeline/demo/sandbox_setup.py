"""Wiring a running sandbox to the local stack (`hubspot-pipeline dev`): the app's webhook target and
subscriptions, as a developer sets them in HubSpot's app settings, and one sandbox portal per workspace,
connected through the real OAuth flow."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    hubspot_activity_log,
    hubspot_sync_status,
    sync_cursors,
    sync_requests,
    workspaces,
)
from hubspot_pipeline.demo.hubspot_side import connect_workspace
from hubspot_pipeline.hubspot import OAuthApp
from hubspot_pipeline.sandbox.admin_client import SandboxAdmin
from hubspot_pipeline.sync.core.mapping import DEFAULT_CONTACT_MAPPINGS

# privacyDeletion: a GDPR delete in HubSpot erases the person in ColdCopy too (privacy/hubspot_deletions.py).
OBJECT_EVENTS = (
    "contact.creation",
    "contact.deletion",
    "contact.merge",
    "contact.restore",
    "contact.privacyDeletion",
)


def configure_webhooks(base_url: str, app_id: int, developer_key: str, target_url: str) -> int:
    """Point the app's webhooks at `target_url` and subscribe to contact changes; returns subscriptions made."""
    api = f"{base_url}/webhooks/v3/{app_id}"
    params = {"hapikey": developer_key}
    with httpx.Client(timeout=30) as http:
        http.put(
            f"{api}/settings",
            params=params,
            json={"targetUrl": target_url, "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"}},
        ).raise_for_status()
        existing = http.get(f"{api}/subscriptions", params=params).raise_for_status().json()["results"]
        have = {(s["eventType"], s.get("propertyName")) for s in existing}
        wanted = [(event, None) for event in OBJECT_EVENTS] + [
            ("contact.propertyChange", m.hubspot_property) for m in DEFAULT_CONTACT_MAPPINGS if m.pulls
        ]
        made = 0
        for event_type, property_name in wanted:
            if (event_type, property_name) in have:
                continue
            body = {"eventType": event_type, "active": True}
            if property_name:
                body["propertyName"] = property_name
            http.post(f"{api}/subscriptions", params=params, json=body).raise_for_status()
            made += 1
    return made


def connect_all_workspaces(engine: sa.Engine, base_url: str, first_hub_id: int) -> dict[uuid.UUID, int]:
    """Give every workspace a sandbox portal of its own and connect it by OAuth (tokens stored encrypted)."""
    with engine.connect() as conn:
        workspace_ids = list(conn.scalars(sa.select(workspaces.c.id).order_by(workspaces.c.created_at)))
    admin = SandboxAdmin(base_url, first_hub_id)
    app = OAuthApp.from_settings(api_base_url=base_url)
    connected = {}
    try:
        for index, workspace_id in enumerate(workspace_ids):
            hub_id = first_hub_id if index == 0 else admin.add_portal()[0]
            connect_workspace(engine, app, workspace_id, hub_id)
            connected[workspace_id] = hub_id
    finally:
        admin.close()
        app.close()
    return connected


def request_fresh_syncs(engine: sa.Engine, workspace_ids: list[uuid.UUID]) -> None:
    """A new sandbox is a new, empty HubSpot account and app: forget the pairs, the logged email activity and
    the event templates made with the previous one, and queue a full sync of each workspace (the sync-request
    sensor launches it, as for POST /sync/contacts)."""
    from hubspot_pipeline.activities.store.templates import forget_templates
    from hubspot_pipeline.settings import get_settings

    with engine.begin() as conn:
        for table in (hubspot_sync_status, sync_cursors, hubspot_activity_log):
            conn.execute(sa.delete(table).where(table.c.workspace_id.in_(workspace_ids)))
        forget_templates(conn, get_settings().hubspot_app_id)
        for workspace_id in workspace_ids:
            conn.execute(
                sa.insert(sync_requests).values(
                    workspace_id=workspace_id, full_resync=True, requested_by="hubspot-pipeline dev"
                )
            )
