"""Fixtures for the API tests: the app on the session's test database, an HTTP client, and two tenants
(workspaces with an API key and a connected portal)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from api_support import Tenant, make_tenant
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hubspot_pipeline.api.app import create_app


@pytest.fixture(scope="session")
def app(engine: sa.Engine) -> FastAPI:
    return create_app(engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def tenant(engine: sa.Engine) -> Tenant:
    return make_tenant(engine)


@pytest.fixture
def other_tenant(engine: sa.Engine) -> Tenant:
    return make_tenant(engine)
