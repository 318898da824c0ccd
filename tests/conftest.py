"""Shared fixtures: a fresh, migrated PostgreSQL database per test session.

With `DATABASE_URL` set, the test database is created on that server; otherwise on the embedded server
(started on demand, stopped when the last process using it exits). Either way the database is dropped at
the end, so test runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db import migrate
from hubspot_pipeline.db.connection import get_engine, libpq_url
from hubspot_pipeline.db.embedded import create_database, drop_database
from tests.databases import on_database


def _server_admin_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return libpq_url(configured)
    from hubspot_pipeline.db.embedded import start_embedded
    from hubspot_pipeline.settings import get_settings

    url = start_embedded(get_settings().data_dir)
    return url.replace("/hubspot_pipeline?", "/postgres?")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin_url = _server_admin_url()
    name = f"hp_test_{uuid.uuid4().hex[:12]}"
    create_database(admin_url, name)
    url = on_database(admin_url, name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url  # child processes (sandbox, API, Dagster) use the test database
    from hubspot_pipeline.db.connection import database_url as cached_url
    from hubspot_pipeline.settings import get_settings

    cached_url.cache_clear()
    get_settings.cache_clear()
    migrate.upgrade(engine=get_engine(url))
    try:
        yield url
    finally:
        get_engine(url).dispose()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        drop_database(admin_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> sa.Engine:
    return get_engine(database_url)


@pytest.fixture
def workspace_id(engine: sa.Engine) -> uuid.UUID:
    """A new, empty workspace for one test (tests share the session database, never a workspace)."""
    from hubspot_pipeline.db.tables import workspaces

    with engine.begin() as conn:
        slug = f"ws-{uuid.uuid4().hex[:10]}"
        return conn.execute(
            sa.insert(workspaces).values(name=f"Test {slug}", slug=slug).returning(workspaces.c.id)
        ).scalar_one()


@pytest.fixture(autouse=True)
def _no_leftover_dagster_state_storage() -> Iterator[None]:
    # Dagster keeps the instance's defs-state storage in a context variable that an instance_for_test()
    # left behind can leave pointing at a dead instance; loading definitions in a later test then fails
    # with "Attempted to resolve undefined DagsterInstance weakref". Each test starts without it.
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """Under pytest-xdist, tests sharing a node id are refused: xdist schedules by node id and would run one
    of them and report them all passed. schemathesis's tests are such (an item per API operation, each with
    the test's bare node id), so `make test` runs tests/api/test_openapi_fuzz.py in a process of its own."""
    seen: set[str] = set()
    shared: set[str] = set()
    for nodeid in ids:
        (shared if nodeid in seen else seen).add(nodeid)
    if shared:
        raise pytest.UsageError(f"tests sharing a node id cannot run under xdist: {sorted(shared)}")
