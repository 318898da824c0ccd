"""Fixtures of the workflow engine tests: the sandbox over HTTP (one server per session, reset per test)."""

from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server

__all__ = ["hubspot_sandbox", "hubspot_sandbox_server"]
