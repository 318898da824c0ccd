"""`hubspot-pipeline demo` end to end, as `make demo` runs it: demo data, OAuth against the sandbox, HubSpot
seeded with overlapping contacts, the Dagster reconcile job, then the incremental job with nothing to do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_the_demo_syncs_both_ways_and_a_second_run_writes_nothing(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "HUBSPOT_PIPELINE_DATA_DIR": str(tmp_path)}
    env.pop("HUBSPOT_API_BASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "hubspot_pipeline.cli", "demo", "--leads", "60", "--workspaces", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "connected 2 workspaces through OAuth" in out
    first, second = out.split("run 2:")
    rows = re.findall(r"Demo Workspace \d\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", first)
    assert len(rows) == 2
    for _pushed, new_in_hubspot, pulled, new_leads, conflicts, errors in rows:
        assert int(new_in_hubspot) > 0 and int(new_leads) > 0 and int(pulled) > 0 and int(conflicts) > 0
        assert int(errors) == 0
    assert "hubspot wins" in first
    companies = re.search(r"companies by domain: (\d+) in HubSpot, contacts associated in (\d+) batch", first)
    assert companies and int(companies.group(1)) > 0 and int(companies.group(2)) > 0
    idle = re.findall(r"Demo Workspace \d\s+0\s+0\s+0\s+0\s+0\s+0", second)
    assert len(idle) == 2
    assert re.search(r"HubSpot API calls: \d+ \(0 writes\)", second)
