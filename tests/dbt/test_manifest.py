"""The dbt manifest the engagement location loads: parsed when missing, published whole. Processes that load
the location at once (the webserver's and the daemon's code servers, two test workers) may parse together;
none may read a manifest another is still writing, and none may leave its parse behind."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hubspot_pipeline.engagement_location.project import manifest_path


def test_processes_parsing_at_once_each_get_a_whole_manifest_and_leave_only_it(tmp_path: Path) -> None:
    target = tmp_path / "target"
    with ThreadPoolExecutor(max_workers=3) as pool:
        manifests = list(pool.map(manifest_path, [target] * 3))
    assert manifests == [target / "manifest.json"] * 3
    nodes = json.loads(manifests[0].read_text())["nodes"]
    assert any(key.startswith("model.") and key.endswith(".lead_engagement_scores") for key in nodes)
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json"]
    published = manifests[0].stat().st_mtime_ns
    assert manifest_path(target).stat().st_mtime_ns == published  # fresh: not parsed again
