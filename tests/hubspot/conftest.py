"""Sandbox fixtures for the client's integration tests: one sandbox server per session, reset per test."""

from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server

__all__ = ["hubspot_sandbox", "hubspot_sandbox_server"]
