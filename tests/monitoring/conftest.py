"""Fixtures of the monitoring tests: the sandbox over HTTP and the alert cycle wired to a local receiver."""

from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from tests.monitoring.alerting import alerting  # noqa: F401
