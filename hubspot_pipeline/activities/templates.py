"""The app's timeline event templates in HubSpot, made and kept up to date with its developer credentials.

A run needs the template ids of the event types it logs as timeline events. When every stored template's
definition hash matches the code's, no call is made. Otherwise, under a lock: the app's templates are listed,
a template with the type's name is reused (updated if it differs) and a missing one is created. Templates
belong to the app, not to a portal, so every installing portal shares them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from hubspot_pipeline.activities.core.templates import TEMPLATES, same_template
from hubspot_pipeline.activities.store.templates import save_template, stored_templates, templates_lock
from hubspot_pipeline.hubspot import DeveloperClient, HubSpotAuthError, PostgresRateLimiter


@dataclass(frozen=True)
class DeveloperCredentials:
    base_url: str
    app_id: int
    api_key: str | None  # None: templates can only be used as stored, never made

    @classmethod
    def from_settings(cls, base_url: str | None = None) -> DeveloperCredentials:
        from hubspot_pipeline.hubspot import OAuthApp
        from hubspot_pipeline.settings import developer_api_key, get_settings

        settings = get_settings()
        if base_url is None:
            app = OAuthApp.from_settings()
            base_url = app.api_base_url
            app.close()
        return cls(base_url, settings.hubspot_app_id, developer_api_key(settings))

    def __repr__(self) -> str:
        return f"DeveloperCredentials(base_url={self.base_url!r}, app_id={self.app_id})"


def ensure_templates(
    engine: sa.Engine, credentials: DeveloperCredentials, event_types: Collection[str]
) -> dict[str, str]:
    """event type -> template id for each of `event_types`, making or updating templates where needed."""
    wanted = {t: TEMPLATES[t] for t in event_types}
    with engine.connect() as conn:
        stored = stored_templates(conn, credentials.app_id)
    if all(t in stored and stored[t][1] == d.digest() for t, d in wanted.items()):
        return {t: stored[t][0] for t in wanted}
    if credentials.api_key is None:
        raise HubSpotAuthError(
            f"the app's timeline event templates for {', '.join(sorted(wanted))} are not set up, and no developer "
            "credentials are configured to make them: set HUBSPOT_DEVELOPER_API_KEY (and HUBSPOT_APP_ID) to the "
            "app's developer API key; events wait until then"
        )
    ids: dict[str, str] = {}
    limiter = PostgresRateLimiter(engine, portal_key=f"developer:{credentials.app_id}")
    with (
        engine.begin() as conn,
        templates_lock(conn, credentials.app_id),
        DeveloperClient(
            credentials.base_url, app_id=credentials.app_id, api_key=credentials.api_key, limiter=limiter
        ) as developer,
    ):
        existing = {template["name"]: template for template in developer.list_event_templates()}
        for event_type, definition in wanted.items():
            found = existing.get(definition.name)
            if found is None:
                template_id = str(developer.create_event_template(definition.as_json())["id"])
            else:
                template_id = str(found["id"])
                if not same_template(definition, found):
                    developer.update_event_template(template_id, definition.as_json())
            save_template(conn, credentials.app_id, event_type, template_id, definition.digest())
            ids[event_type] = template_id
    return ids
