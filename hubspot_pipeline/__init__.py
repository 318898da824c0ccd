"""hubspot_pipeline: a bidirectional sync between ColdCopy and HubSpot CRM, built on Dagster."""

from hubspot_pipeline.logs import quiet_http_loggers

# Before anything else of the project runs: URLs with secrets never reach a log (logs.py says why).
quiet_http_loggers()
