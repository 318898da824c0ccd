"""deploy/: every metric the Prometheus rules and the Grafana dashboard use exists in a real GET /metrics,
and promtool accepts the rules and passes their unit tests. In CI promtool comes from Debian's `prometheus`
package (.ci/run installs it); elsewhere the promtool tests are skipped when it is missing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hubspot_pipeline.api.app import create_app
from hubspot_pipeline.settings import PROJECT_ROOT, get_settings

DEPLOY = PROJECT_ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "hubspot_pipeline.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "hubspot_pipeline.rules.test.yml"
DASHBOARD = DEPLOY / "grafana" / "hubspot_pipeline.json"
METRIC = re.compile(r"\bhubspot_pipeline_[a-z0-9_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def _dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


@pytest.fixture
def scraped(engine: sa.Engine) -> Iterator[set[str]]:
    os.environ["METRICS_TOKEN"] = "deploy-test-token-0123456789"
    get_settings.cache_clear()
    try:
        with TestClient(create_app(engine)) as client:
            response = client.get(
                "/metrics", headers={"Authorization": "Bearer deploy-test-token-0123456789"}
            )
        assert response.status_code == 200
        yield {family.name for family in text_string_to_metric_families(response.text)}
    finally:
        os.environ.pop("METRICS_TOKEN", None)
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("source", "expressions"), [("rules", _rule_expressions), ("dashboard", _dashboard_expressions)]
)
def test_every_metric_deploy_uses_exists_in_metrics(scraped: set[str], source: str, expressions) -> None:
    used = {_family(name) for expression in expressions() for name in METRIC.findall(expression)}
    assert used, f"the {source} use no hubspot_pipeline metric?"
    assert used - scraped == set(), f"the {source} use metrics GET /metrics does not export"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI: .ci/run installs Debian's prometheus package for it")
        pytest.skip("promtool is not installed (apt-get install -y prometheus)")
    return found


def _run(*args: str, cwd: Path) -> None:
    result = subprocess.run([_promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_rules() -> None:
    _run("check", "rules", RULES.name, cwd=RULES.parent)


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    _run("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
