"""The sandbox over HTTP and a private-app client on it (tests/sync's fixtures)."""

from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from tests.sync.conftest import hubspot_client  # noqa: F401
