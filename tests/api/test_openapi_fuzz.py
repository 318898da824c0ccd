"""Schemathesis over the API's own OpenAPI document, in process: whatever it generates (valid and invalid
inputs, with a valid workspace key), no endpoint answers 5xx. Bounded examples per operation; the workspace is
not connected to HubSpot, so nothing leaves the process."""

from __future__ import annotations

import pytest
import schemathesis
import sqlalchemy as sa
from api_support import Tenant, make_tenant
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from hubspot_pipeline.api.app import PREFIX, create_app

# The schema is read at collection time; the app gets the test database's engine before any call is made.
APP = create_app(sa.create_engine("postgresql+psycopg://unset-until-the-fixture-runs/none"))
schema = schemathesis.openapi.from_asgi(f"{PREFIX}/openapi.json", APP)


@pytest.fixture(scope="module")
def fuzz_tenant(engine: sa.Engine) -> Tenant:
    APP.state.engine = engine
    return make_tenant(engine, connected=False)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_answer_5xx(case, fuzz_tenant: Tenant) -> None:
    case.call_and_validate(headers=fuzz_tenant.headers, checks=[not_a_server_error])


@pytest.fixture
def connected_fuzz_tenant(engine: sa.Engine, sandbox_api, fuzz_tenant: Tenant) -> Tenant:
    """A workspace connected over OAuth to a sandbox portal, so calls that reach HubSpot are fuzzed too."""
    from api_support import approve, new_hub_id
    from fastapi.testclient import TestClient

    tenant = make_tenant(engine, connected=False)
    hub_id, _ = sandbox_api.admin.add_portal(new_hub_id())
    with TestClient(APP) as client:
        start = client.get(f"{PREFIX}/auth", params={"redirect": "false"}, headers=tenant.headers).json()
        assert (
            client.get(f"{PREFIX}/callback", params=approve(start["authorize_url"], hub_id)).status_code
            == 200
        )
    return tenant


@schema.include(
    path_regex="/(mappings|properties|config|sync/contacts|workflows.*|privacy/erasures)$"
).parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_connected_workspace_answer_5xx(case, connected_fuzz_tenant: Tenant) -> None:
    case.call_and_validate(headers=connected_fuzz_tenant.headers, checks=[not_a_server_error])
