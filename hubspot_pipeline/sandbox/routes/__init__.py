"""Every HubSpot endpoint the sandbox serves, registered on one router."""

from __future__ import annotations

from hubspot_pipeline.sandbox.routing import Router


def register_all(router: Router) -> None:
    from hubspot_pipeline.sandbox.routes import admin, batch, objects, search

    admin.register(router)
    batch.register(router)  # before objects: /batch/read must not be taken for GET-by-id paths
    search.register(router)
    objects.register(router)
    for module_name in (
        "oauth",
        "properties",
        "associations",
        "merge",
        "gdpr",
        "timeline",
        "workflows",
        "webhooks",
    ):
        module = __import__(f"hubspot_pipeline.sandbox.routes.{module_name}", fromlist=["register"])
        module.register(router)
