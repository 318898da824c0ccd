"""Logging rules every process of the project keeps (API, command line, Dagster code servers and runs).

HTTP libraries log each request's URL at INFO or DEBUG: httpx (`HTTP Request: GET ...?hapikey=...`), httpcore,
urllib3 (`"POST /services/T0/B0/<token> HTTP/1.1"`, the path of a Slack webhook URL is its secret), and
apprise its notification targets. The developer API key travels in a query string and notification URLs
carry tokens, so those loggers stay at WARNING whatever level a process gives its root logger. Set when the
package is imported (hubspot_pipeline/__init__.py), so no process of the project can miss it.
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "apprise")


def quiet_http_loggers() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET included: never inherit a chattier root level
            logger.setLevel(logging.WARNING)
