"""The custom-action sender against a real local receiver: the signature verifies over timestamp and body,
the idempotency key is the same on every try, a receiver that does not answer in time is tried again within
the delivery and reported retryable, a 429's Retry-After is honoured, and an address check runs before each
try (a host resolving to loopback is refused unless private targets are allowed)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hubspot_pipeline.settings import Settings
from hubspot_pipeline.workflows.custom_action import (
    CustomActionSender,
    url_problem,
    workspace_signing_secret,
)
from tests.workflows.receiver import run_receiver

SECRET = "s3cret-of-the-workspace"


def test_a_delivery_is_signed_over_timestamp_and_body_with_one_key() -> None:
    with run_receiver() as receiver, CustomActionSender(allow_private=True, timeout=5) as sender:
        delivery = sender.send(receiver.url, {"a": 1}, idempotency_key="k-1", secret=SECRET)
    assert delivery.delivered and delivery.status == 200 and delivery.attempts == 1
    [received] = receiver.deliveries
    assert received.signed_with(SECRET) and not received.signed_with("another")
    assert received.headers["Idempotency-Key"] == "k-1" and received.json == {"a": 1}
    assert abs(int(received.headers["X-ColdCopy-Timestamp"]) - time.time()) < 60


def test_a_receiver_that_does_not_answer_in_time_is_tried_again_then_reported_retryable() -> None:
    waits: list[float] = []
    with (
        run_receiver() as receiver,
        CustomActionSender(allow_private=True, timeout=0.3, sleep=waits.append) as sender,
    ):
        receiver.answer = lambda n: (200, 1.0, {})
        delivery = sender.send(receiver.url, {"a": 1}, idempotency_key="k-2", secret=SECRET)
    assert not delivery.delivered and delivery.retryable and delivery.attempts == 3
    assert delivery.error == "the receiver did not answer in time"
    assert waits == [0.5, 1.0]  # backoff between the tries
    assert {d.headers["Idempotency-Key"] for d in receiver.deliveries} == {"k-2"}


def test_a_429_is_retried_after_its_retry_after() -> None:
    waits: list[float] = []
    with (
        run_receiver() as receiver,
        CustomActionSender(allow_private=True, timeout=5, sleep=waits.append) as sender,
    ):
        receiver.answer = lambda n: (429, 0.0, {"Retry-After": "2"}) if n == 0 else (204, 0.0, {})
        delivery = sender.send(receiver.url, {}, idempotency_key="k-3", secret=SECRET)
    assert delivery.delivered and delivery.attempts == 2 and waits == [2.0]


def test_the_address_is_checked_after_resolution_before_each_try() -> None:
    assert "a loopback address" in (url_problem("https://localhost:9/x", allow_private=False) or "")
    assert url_problem("https://localhost:9/x", allow_private=True) is None
    with run_receiver() as receiver, CustomActionSender(allow_private=False, timeout=5) as sender:
        delivery = sender.send(
            receiver.url.replace("http://", "https://"), {}, idempotency_key="k", secret=SECRET
        )
    assert not delivery.delivered and not delivery.retryable and "loopback" in (delivery.error or "")
    assert receiver.deliveries == []


@contextmanager
def _listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP port on 127.0.0.1 that records every connection made to it (and says nothing)."""
    accepted: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            accepted.append(peer[0])
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        server.close()


def test_a_host_that_rebinds_to_loopback_after_the_check_is_never_connected_to() -> None:
    # Attacker: the workspace's DNS answers a public address to the check, then loopback to the connection
    # (DNS rebinding). The delivery must connect to the address it checked, never resolve again.
    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return [next(answers)]

    with (
        _listener() as (port, accepted),
        CustomActionSender(allow_private=False, timeout=0.5, attempts=1, resolver=rebinding) as sender,
    ):
        delivery = sender.send(f"https://localhost:{port}/hooks", {}, idempotency_key="k", secret=SECRET)
    assert accepted == []  # nothing reached the loopback address
    assert not delivery.delivered and delivery.retryable
    assert asked == ["localhost"]  # resolved once, for the check and the connection both


def test_a_delivery_goes_to_the_address_it_resolved_with_the_url_s_host() -> None:
    # The pinned connection keeps the URL's host in the Host header (and the TLS server name, for https).
    with (
        run_receiver() as receiver,
        CustomActionSender(
            allow_private=True, timeout=5, resolver=lambda host, port: ["127.0.0.1"]
        ) as sender,
    ):
        port = receiver.url.split(":")[2].split("/")[0]
        url = f"http://receiver.invalid:{port}/hooks/coldcopy"
        delivery = sender.send(url, {"a": 1}, idempotency_key="k-pin", secret=SECRET)
    assert delivery.delivered, delivery.error
    [received] = receiver.deliveries
    assert received.headers["Host"] == f"receiver.invalid:{port}" and received.path == "/hooks/coldcopy"


def test_the_signing_secret_is_its_own_setting_not_the_oauth_state_secret(tmp_path: Path) -> None:
    workspace = uuid.uuid4()

    def secret(**env: str) -> str:
        return workspace_signing_secret(workspace, Settings(HUBSPOT_PIPELINE_DATA_DIR=tmp_path, **env))

    local = secret()  # unset: generated once under the data folder, then the same
    assert local == secret() and (tmp_path / "workflow_signing.secret").stat().st_mode & 0o077 == 0
    assert secret(STATE_SIGNING_SECRET="rotated-oauth-state-secret") == local  # OAuth's rotation leaves it
    configured = secret(WORKFLOW_SIGNING_SECRET="the-deployment-s-actions-secret")
    assert configured != local
    assert configured == secret(
        WORKFLOW_SIGNING_SECRET="the-deployment-s-actions-secret", STATE_SIGNING_SECRET="x"
    )
    assert configured != workspace_signing_secret(
        uuid.uuid4(), Settings(WORKFLOW_SIGNING_SECRET="the-deployment-s-actions-secret")
    )  # each workspace its own
