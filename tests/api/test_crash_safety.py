"""SIGKILL of `hubspot-pipeline serve` while HubSpot-like deliveries are in flight loses no event the API had
acknowledged: a 2xx is sent only after the events' transaction committed. (The benchmark
bench/api_webhook_ingest.py --kill-after does the same at full load.)"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import sqlalchemy as sa
from api_support import Tenant, free_port, start_api, url

from hubspot_pipeline.db.tables import webhook_events
from hubspot_pipeline.hubspot.signatures import sign_v3
from hubspot_pipeline.settings import get_settings


def test_no_acknowledged_event_is_lost_when_the_api_is_killed(engine: sa.Engine, tenant: Tenant) -> None:
    port = free_port()
    process = start_api(port)
    target = f"http://127.0.0.1:{port}{url('/webhooks')}"
    secret = get_settings().hubspot_client_secret.get_secret_value()
    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    base = int(time.time() * 1000) * 1000

    def deliver(worker: int) -> None:
        batch = 0
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                ids = [base + worker * 10_000_000 + batch * 100 + i for i in range(100)]
                batch += 1
                now_ms = int(time.time() * 1000)
                events = [
                    {"eventId": i, "subscriptionId": 25, "portalId": tenant.hub_id, "objectId": i % 1000,
                     "occurredAt": now_ms, "subscriptionType": "contact.propertyChange",
                     "propertyName": "firstname", "propertyValue": "x"}
                    for i in ids
                ]  # fmt: skip
                body = json.dumps(events).encode()
                headers = {
                    "X-HubSpot-Signature-v3": sign_v3(secret, "POST", target, body, now_ms),
                    "X-HubSpot-Request-Timestamp": str(now_ms),
                }
                try:
                    response = client.post(target, content=body, headers=headers)
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.extend(ids)

    workers = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while (
        len(acknowledged) < 2000 and time.monotonic() < deadline
    ):  # kill it mid-load, however slow the machine
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    stop.set()
    for worker in workers:
        worker.join(timeout=15)
    process.wait(timeout=10)
    assert len(acknowledged) >= 1000  # the load was real
    with engine.connect() as conn:
        stored = set(
            conn.execute(
                sa.select(webhook_events.c.event_id).where(
                    webhook_events.c.workspace_id == tenant.workspace_id
                )
            ).scalars()
        )
    assert set(acknowledged) - stored == set()
