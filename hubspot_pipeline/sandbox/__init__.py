"""The HubSpot sandbox: a local HubSpot that speaks the real API (paths, JSON shapes, status codes, errors,
rate limits, OAuth, webhooks with signatures), for the demo, the integration tests and the benchmarks.

Never imports Dagster. Entry points: `create_app(options)` (ASGI), `testing.run_sandbox()` (tests),
`hubspot-pipeline sandbox` (CLI).
"""

from hubspot_pipeline.sandbox.app import create_app
from hubspot_pipeline.sandbox.options import SandboxOptions

__all__ = ["SandboxOptions", "create_app"]
