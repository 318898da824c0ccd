"""Batch-upsert throughput of the HubSpot sandbox itself, so we know it never limits the sync benchmarks.

Starts `hubspot-pipeline sandbox` in its own process (rate limits off) and drives it over HTTP with
concurrent clients sending 100-contact `batch/upsert` calls by email, in three phases over the same
emails: create (all new), update (every value changed), unchanged (echo: nothing to write). Then it
times a search page over the full store and reports the server's memory.

    .venv/bin/python bench/sandbox_throughput.py --contacts 50000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

BATCH = 100
TOKEN = "pat-bench"
RESULTS = Path(__file__).resolve().parent / "results" / "sandbox_throughput.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_sandbox(port: int) -> subprocess.Popen[bytes]:
    executable = Path(sys.executable).with_name("hubspot-pipeline")
    process = subprocess.Popen(
        [str(executable), "sandbox", "--port", str(port), "--private-app-token", TOKEN, "--no-rate-limits"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_sandbox/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start within 30 s")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _phase(base_url: str, contacts: int, concurrency: int, tag: str) -> dict[str, float]:
    batches = [range(start, min(start + BATCH, contacts)) for start in range(0, contacts, BATCH)]
    queue: asyncio.Queue[range] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            body = {
                "inputs": [
                    {
                        "id": f"lead{i}@bench.example",
                        "idProperty": "email",
                        "properties": {"firstname": f"First{i}", "lastname": tag, "company": f"Co {i % 997}"},
                    }
                    for i in batch
                ]
            }
            started = time.perf_counter()
            response = await client.post("/crm/v3/objects/contacts/batch/upsert", json=body)
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, limits=limits, timeout=60
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"unexpected statuses {statuses}")
    latencies.sort()
    return {
        "seconds": elapsed,
        "requests_per_s": len(batches) / elapsed,
        "contacts_per_s": contacts / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    port = _free_port()
    process = _start_sandbox(port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        print(
            f"sandbox pid {process.pid}, {args.contacts:,} contacts, {args.concurrency} concurrent clients, "
            f"{BATCH} per batch/upsert, CPUs {os.cpu_count()}"
        )
        report: dict[str, object] = {
            "contacts": args.contacts,
            "concurrency": args.concurrency,
            "batch": BATCH,
        }
        for phase in ("create", "update", "unchanged"):
            # "unchanged" sends the update phase's values again: an echo, nothing to write.
            tag = "update" if phase == "unchanged" else phase
            result = asyncio.run(_phase(base_url, args.contacts, args.concurrency, tag))
            report[phase] = {key: round(value, 1) for key, value in result.items()}
            print(
                f"{phase:>9}: {result['contacts_per_s']:>9,.0f} contacts/s  {result['requests_per_s']:>7,.1f} req/s"
                f"  p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  ({result['seconds']:.1f} s)"
            )
        # The sync's incremental read (a compound cursor on lastmodifieddate and hs_object_id, numeric and
        # vectorised) and a string equality filter (checked record by record).
        searches = {
            "cursor": {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"},
                            {"propertyName": "hs_object_id", "operator": "GT", "value": "0"},
                        ]
                    }
                ],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "limit": 200,
            },
            "string_eq": {
                "filterGroups": [
                    {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "update"}]}
                ],
                "limit": 200,
            },
        }
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as client:
            for name, search in searches.items():
                timings = []
                for _ in range(5):
                    started = time.perf_counter()
                    total = client.post("/crm/v3/objects/contacts/search", json=search).json()["total"]
                    timings.append(time.perf_counter() - started)
                report[f"search_{name}_best_ms"] = round(min(timings) * 1000, 1)
                print(
                    f"   search ({name}): {min(timings) * 1000:.0f} ms for a 200-row page of {total:,} matches "
                    f"(best of 5)"
                )
        report["rss_mb"] = round(_rss_mb(process.pid))
        print(f"   memory: {report['rss_mb']:,} MB resident")
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
