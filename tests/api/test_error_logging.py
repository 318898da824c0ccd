"""What reaches the API's log when a request fails, through `hubspot-pipeline serve` (uvicorn) with its stderr
kept in a file. Bad input gets a 4xx and leaves no traceback; an unexpected exception is logged with a
correlation id, its type and where it was raised (code locations only), never its message, which can quote
request data or settings (SQLAlchemy's carries the statement's parameters); uvicorn's own "Exception in ASGI
application" traceback, which prints the message, is never written. The attacker's inputs themselves are
tested beside their endpoints (test_webhooks.py, test_oauth.py, test_request_limits.py)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from api_support import free_port, start_api, stop_api, url
from test_webhooks import v3_headers

from hubspot_pipeline.api.app import create_app
from hubspot_pipeline.db.embedded import create_database, drop_database
from tests.databases import on_database

UVICORN_TRACEBACK = "Exception in ASGI application"


@dataclass
class LoggedApi:
    base_url: str
    log: Path

    @property
    def webhook_url(self) -> str:
        return self.base_url + url("/webhooks")

    def log_text(self) -> str:
        time.sleep(0.2)  # the server writes its line after answering
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def logged_api(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[LoggedApi]:
    log = tmp_path_factory.mktemp("api") / "serve.log"
    port = free_port()
    process = start_api(port, log=log)
    try:
        yield LoggedApi(f"http://127.0.0.1:{port}", log)
    finally:
        stop_api(process)


def test_a_deeply_nested_signed_body_is_a_400_and_logs_no_traceback(logged_api: LoggedApi) -> None:
    # Regression: json.loads raised RecursionError, which the receiver did not catch: a 500, and uvicorn
    # logged the exception with its text, past the project's own error logging.
    body = b"[" * 100_000 + b"]" * 100_000
    response = httpx.post(
        logged_api.webhook_url, content=body, headers=v3_headers(body, uri=logged_api.webhook_url)
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_body"
    log = logged_api.log_text()
    assert "Traceback" not in log and UVICORN_TRACEBACK not in log and "RecursionError" not in log


def test_an_unexpected_error_is_logged_with_a_correlation_id_and_its_type_only(
    tmp_path: Path, database_url: str
) -> None:
    # A real unexpected failure: the API's database disappears while it serves (serve refuses to start on
    # a database it cannot reach, test_cli_errors.py). The exception's message names it (as a database
    # error's message can name an email or a token); the log must not.
    marker = f"hp_absent_{uuid.uuid4().hex[:12]}"
    admin_url = on_database(database_url, "postgres")
    create_database(admin_url, marker)
    log = tmp_path / "serve.log"
    port = free_port()
    try:
        process = start_api(port, env={"DATABASE_URL": on_database(database_url, marker)}, log=log)
    finally:
        drop_database(admin_url, marker)  # WITH (FORCE): the API's pooled connections go with it
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{url('/health')}")
    finally:
        stop_api(process)
    assert response.status_code == 500
    error = response.json()["error"]
    correlation_id = error["details"]["correlation_id"]
    assert response.headers["x-correlation-id"] == correlation_id and correlation_id in error["message"]
    text = log.read_text(errors="replace")
    assert marker not in text and "Traceback" not in text and UVICORN_TRACEBACK not in text
    [line] = [line for line in text.splitlines() if correlation_id in line]
    assert "OperationalError" in line and "GET /api/integrations/hubspot/health" in line


def test_an_exception_reaching_uvicorns_error_logger_is_reduced_to_its_type(
    engine, caplog: pytest.LogCaptureFixture
) -> None:
    # Defence in depth, for an exception raised outside the app's own middleware: uvicorn logs it on
    # "uvicorn.error" with exc_info, and the app's filter there keeps the type and drops message and traceback.
    create_app(engine)
    try:
        raise ValueError("ada@example.com")
    except ValueError as error:
        with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
            logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=error)
    [record] = [record for record in caplog.records if record.name == "uvicorn.error"]
    assert record.exc_info is None
    assert record.getMessage().startswith("Exception in ASGI application (ValueError at ")
    assert "ada@example.com" not in caplog.text and "Traceback" not in caplog.text
