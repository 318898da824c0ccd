"""deploy/: the production configuration, validated as far as it can be without a cluster, Docker or the Helm
chart's schema (docs/deployment.md says what is not validated).

- deploy/dagster.yaml passes Dagster's own instance-config processing with dagster-k8s installed, each
  configurable class's config (run queue, K8s run launcher, compute logs) is processed against that class's
  schema as Dagster does when it loads the instance, and the launcher builds a run's Kubernetes Job from it;
- its run queue keeps one run at a time per workspace, with the local dagster.yaml's limits, and the Helm
  values say what it says;
- every YAML under deploy/ parses and every environment variable it names is a setting of settings.py; the
  API's probes ask for its health route, which answers;
- the Dockerfile copies files that exist, installs from constraints.txt, and runs as a user that is not root;
  its entrypoint names code locations and commands that exist;
- no code location imports dagster_k8s (run pods and code servers never load it).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient
from fresh_process import python_output

from hubspot_pipeline.settings import OTHER_PROGRAMS_VARIABLES, PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
PRODUCTION_YAML = DEPLOY / "dagster.yaml"
LOCAL_YAML = PROJECT_ROOT / "dagster.yaml"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
API_MANIFESTS = DEPLOY / "k8s" / "api.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
SETTINGS = {field.alias for field in Settings.model_fields.values()} | OTHER_PROGRAMS_VARIABLES
SECRET_SETTINGS = {
    field.alias for field in Settings.model_fields.values() if "SecretStr" in str(field.annotation)
} | {"DATABASE_URL", "DAGSTER_PG_URL"}  # URLs with the database password
# Variables the Dockerfile sets for Python and pip themselves, not for the project.
PYTHON_VARIABLES = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR"} | {
    "PIP_DISABLE_PIP_VERSION_CHECK"
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _documents(path: Path) -> list[Any]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def _yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


# --- deploy/dagster.yaml against Dagster's instance schema -------------------------------------------------


@pytest.fixture
def production_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """deploy/dagster.yaml as Dagster's instance loading validates and reads it, from a DAGSTER_HOME."""
    from dagster._core.instance.config import dagster_instance_config

    monkeypatch.setenv(
        "DAGSTER_PG_URL", "postgresql://dagster:pw@db:5432/app?options=-csearch_path%3Ddagster"
    )
    shutil.copyfile(PRODUCTION_YAML, tmp_path / "dagster.yaml")
    config, custom_instance_class = dagster_instance_config(str(tmp_path))
    assert custom_instance_class is None
    return dict(config)


def _class_config(section: dict[str, Any]) -> tuple[type, dict[str, Any]]:
    """A configurable class's config processed against its schema, as ConfigurableClassData.rehydrate does
    before it builds the class (which, for the K8s run launcher, needs a cluster)."""
    from dagster._config import process_config, resolve_to_config_type
    from dagster._serdes import ConfigurableClassData

    data = ConfigurableClassData(
        section["module"], section["class"], yaml.safe_dump(section.get("config") or {})
    )
    klass = getattr(importlib.import_module(data.module_name), data.class_name)
    result = process_config(resolve_to_config_type(klass.config_type()), data.config_dict)
    assert result.success, f"{section['class']}: {[error.message for error in result.errors or []]}"
    return klass, dict(result.value)


def test_dagster_k8s_is_pinned_with_dagster() -> None:
    pins = dict(
        line.split("==") for line in (PROJECT_ROOT / "constraints.txt").read_text().split() if "==" in line
    )
    dagster_patch = pins["dagster"].removeprefix("1.13.")
    assert pins["dagster-k8s"] == f"0.29.{dagster_patch}"
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"]["k8s"] == [f"dagster-k8s=={pins['dagster-k8s']}"]
    assert "hubspot_pipeline[k8s]" in project["optional-dependencies"]["test"]
    import dagster_k8s

    assert dagster_k8s.__version__ == pins["dagster-k8s"]


def test_production_dagster_yaml_is_a_valid_instance_config(production_config: dict[str, Any]) -> None:
    assert production_config["run_launcher"]["class"] == "K8sRunLauncher"
    for section in ("run_coordinator", "run_launcher", "compute_logs"):
        _class_config(production_config[section])
    assert production_config["run_monitoring"]["enabled"] is True
    assert production_config["run_monitoring"]["max_resume_run_attempts"] == 0
    assert production_config["compute_logs"]["class"] == "NoOpComputeLogManager"
    # Dagster applies the tick retention it reads from the file.
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.instance.config import get_default_tick_retention_settings, get_tick_retention_settings
    from dagster._core.scheduler.instigation import TickStatus

    sensor_ticks = get_tick_retention_settings(
        production_config["retention"]["sensor"], get_default_tick_retention_settings(InstigatorType.SENSOR)
    )
    assert sensor_ticks[TickStatus.SKIPPED] == 1


def test_a_misspelt_launcher_setting_fails_the_same_validation(production_config: dict[str, Any]) -> None:
    section = dict(production_config["run_launcher"])
    section["config"] = {**section["config"], "job_namspace": "typo"}
    with pytest.raises(AssertionError, match="job_namspace"):
        _class_config(section)


def test_the_launcher_builds_a_run_pod_from_the_production_config(
    production_config: dict[str, Any], tmp_path: Path
) -> None:
    """The K8s run launcher built from the file (a kubeconfig that points nowhere stands in for the cluster's
    in-pod credentials: nothing is contacted) makes a run's Job the way launch_run does."""
    from dagster import DagsterRun
    from dagster._serdes import ConfigurableClassData
    from dagster_k8s import K8sRunLauncher
    from dagster_k8s.container_context import K8sContainerContext
    from dagster_k8s.job import construct_dagster_k8s_job

    section = production_config["run_launcher"]
    _, config = _class_config(section)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "none", "user": {"token": "none"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            }
        )
    )
    launcher = K8sRunLauncher.from_config_value(
        ConfigurableClassData(section["module"], section["class"], yaml.safe_dump(section["config"])),
        {**config, "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)},
    )
    run = DagsterRun(job_name="contacts_sync_job", run_id="0" * 32)
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=False)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(
            job_image="registry.example/hubspot-pipeline:1", run_launcher=launcher
        ),
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-0",
        user_defined_k8s_config=context.run_k8s_config,
    )
    assert context.namespace == "hubspot-pipeline"
    assert job.spec.backoff_limit == 0
    pod = job.spec.template.spec
    assert pod.service_account_name == "hubspot-pipeline-dagster"
    container = pod.containers[0]
    assert container.security_context.run_as_non_root is True
    sources = [(s.config_map_ref or s.secret_ref).name for s in container.env_from]
    assert sources == ["hubspot-pipeline-config", "hubspot-pipeline-secrets"]
    assert {variable.name: variable.value for variable in container.env}[
        "DAGSTER_HOME"
    ] == launcher.dagster_home


def _queue_limits(config: dict[str, Any]) -> list[dict[str, Any]]:
    return (config.get("run_coordinator", {}).get("config", {}).get("tag_concurrency_limits")) or (
        config["concurrency"]["runs"]["tag_concurrency_limits"]
    )


def test_one_run_at_a_time_per_workspace_as_locally(production_config: dict[str, Any]) -> None:
    from hubspot_pipeline.defs.workspaces.tags import WORKSPACE_ID

    limits = _queue_limits(production_config)
    assert limits == _queue_limits(_load(LOCAL_YAML))
    per_workspace = [limit for limit in limits if limit["key"] == WORKSPACE_ID]
    assert per_workspace == [{"key": WORKSPACE_ID, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def _snake(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): _snake(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_snake(item) for item in value]
    return value


def test_the_helm_values_say_what_the_production_dagster_yaml_says() -> None:
    """The chart renders its dagster.yaml from these values (camelCase keys for dagster.yaml's snake_case)."""
    values = _load(HELM_VALUES)
    production = _load(PRODUCTION_YAML)

    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == production["run_coordinator"]["class"]
    assert {
        "max_concurrent_runs": queued["maxConcurrentRuns"],
        "dequeue_interval_seconds": queued["dequeueIntervalSeconds"],
        "dequeue_use_threads": queued["dequeueUseThreads"],
        "dequeue_num_workers": queued["dequeueNumWorkers"],
        "tag_concurrency_limits": queued["tagConcurrencyLimits"],
    } == production["run_coordinator"]["config"]
    assert _snake(values["dagsterDaemon"]["runMonitoring"]) == production["run_monitoring"]
    assert values["retention"]["enabled"] is True
    assert {
        kind: {"purge_after_days": values["retention"][kind]["purgeAfterDays"]}
        for kind in ("schedule", "sensor")
    } == production["retention"]
    assert values["computeLogManager"]["type"] == production["compute_logs"]["class"]

    assert values["runLauncher"]["type"] == production["run_launcher"]["class"]
    chart_launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher = production["run_launcher"]["config"]
    assert [s["name"] for s in chart_launcher["envSecrets"]] == launcher["env_secrets"]
    assert [c["name"] for c in chart_launcher["envConfigMaps"]] == launcher["env_config_maps"]
    assert chart_launcher["imagePullPolicy"] == launcher["image_pull_policy"]
    assert chart_launcher["failPodOnRunFailure"] == launcher["fail_pod_on_run_failure"]
    assert _snake(chart_launcher["runK8sConfig"]) == launcher["run_k8s_config"]
    assert values["global"]["serviceAccountName"] == launcher["service_account_name"]
    assert launcher["dagster_home"] == values.get("dagsterHome", "/opt/dagster/dagster_home")


def test_the_helm_code_locations_are_the_workspace_ones() -> None:
    values = _load(HELM_VALUES)
    deployments = values["dagster-user-deployments"]["deployments"]
    workspace = {
        entry["python_module"]["module_name"] for entry in _load(PROJECT_ROOT / "workspace.yaml")["load_from"]
    }
    modules = set()
    for deployment in deployments:
        args = deployment["dagsterApiGrpcArgs"]
        modules.add(args[args.index("--module-name") + 1])
        assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
        assert [s["name"] for s in deployment["envSecrets"]] == ["hubspot-pipeline-secrets"]
        assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert modules == workspace
    images = {d["image"]["repository"] for d in deployments} | {
        values[process]["image"]["repository"] for process in ("dagsterWebserver", "dagsterDaemon")
    }
    assert len(images) == 1, "one image for every process"
    assert values["postgresql"]["enabled"] is False  # the project's own PostgreSQL


# --- every YAML under deploy/: it parses, and names only settings ------------------------------------------


def _env_names(node: Any) -> Iterator[str]:
    """Every environment variable a YAML document names: `env` maps and lists, launcher `envVars`, Dagster's
    `{env: NAME}`, ConfigMap and Secret keys, and the keys a container reads from a Secret."""
    if isinstance(node, dict):
        if node.get("kind") in ("ConfigMap", "Secret"):
            for field in ("data", "stringData"):
                yield from (node.get(field) or {}).keys()
        for key, value in node.items():
            if key == "env" and isinstance(value, str):
                yield value
            elif key == "env" and isinstance(value, dict):
                yield from value.keys()
            elif key == "env" and isinstance(value, list):
                yield from (item["name"] for item in value)
            elif key in ("envVars", "env_vars"):
                yield from (item.split("=", 1)[0] for item in value)
            elif key == "secretKeyRef":
                yield value["key"]
            yield from _env_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _env_names(item)


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_under_deploy_parses_and_names_only_settings(path: Path) -> None:
    documents = _documents(path)
    assert documents, f"{path} holds no YAML document"
    named = {name for document in documents for name in _env_names(document)}
    assert named - SETTINGS == set(), f"{path.name} names variables settings.py does not know"


def test_the_deploy_files_name_the_settings_production_needs() -> None:
    named = {name for path in _yaml_files() for document in _documents(path) for name in _env_names(document)}
    assert {"DAGSTER_PG_URL", "DATABASE_URL", "TOKEN_ENCRYPTION_KEYS", "HUBSPOT_API_BASE_URL"} <= named


def test_the_deployment_runs_in_production_mode_with_what_it_requires() -> None:
    """Every process of the deployment reads the shared ConfigMap: it says production, so a process missing a
    required setting refuses to start instead of falling back to a local database, sandbox or key; and every
    variable production requires is given by the ConfigMap or the Secret."""
    from hubspot_pipeline.settings import PRODUCTION_REQUIRED

    documents = _documents(API_MANIFESTS)
    config_map = next(d for d in documents if d["kind"] == "ConfigMap")
    assert config_map["data"].get("HUBSPOT_PIPELINE_ENV") == "production"
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    given = set(config_map["data"]) | {item["name"] for item in container["env"]}
    assert set(PRODUCTION_REQUIRED) - given == set()


def test_secrets_come_from_the_secret_never_the_config_map() -> None:
    documents = _documents(API_MANIFESTS)
    config_map = next(d for d in documents if d["kind"] == "ConfigMap")
    assert set(config_map["data"]) & SECRET_SETTINGS == set()
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    from_secret = {
        item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item
    }
    assert all(
        ref["key"] == name and ref["name"] == "hubspot-pipeline-secrets" for name, ref in from_secret.items()
    )
    required = {name for name, ref in from_secret.items() if not ref.get("optional")}
    assert required == {
        "DATABASE_URL",
        "HUBSPOT_CLIENT_SECRET",
        "TOKEN_ENCRYPTION_KEYS",
        "STATE_SIGNING_SECRET",
        "WORKFLOW_SIGNING_SECRET",
        "PRIVACY_HASH_SECRET",
    }
    assert set(from_secret) <= SECRET_SETTINGS


def test_the_api_deployment_probes_its_health_route(engine: sa.Engine) -> None:
    from hubspot_pipeline.api.app import create_app

    documents = _documents(API_MANIFESTS)
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    paths = {container[probe]["httpGet"]["path"] for probe in ("readinessProbe", "livenessProbe")}
    app = create_app(engine)
    # The app's GET routes as its OpenAPI document lists them (routers are included lazily in FastAPI 0.165).
    health = {path for path, operations in app.openapi()["paths"].items() if path.endswith("/health")}
    assert all("get" in app.openapi()["paths"][path] for path in health)
    assert paths == health == {"/api/integrations/hubspot/health"}
    with TestClient(app) as client:
        assert client.get(health.pop()).json() == {"status": "ok"}
    # The probes' port is the port the API listens on.
    config_map = next(d for d in documents if d["kind"] == "ConfigMap")
    port = next(p for p in container["ports"] if p["name"] == container["readinessProbe"]["httpGet"]["port"])
    assert str(port["containerPort"]) == config_map["data"]["API_PORT"]
    service = next(d for d in documents if d["kind"] == "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


# --- the container image -----------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_the_image_is_multi_stage_installs_the_pins_and_runs_as_a_user() -> None:
    builder, *_, final = _stages()
    assert len(_stages()) >= 2
    builder_runs = " ".join(argument for name, argument in builder if name == "RUN")
    assert re.search(r"pip install -c constraints\.txt .*\[k8s\]", builder_runs)
    final_runs = " ".join(argument for name, argument in final if name == "RUN")
    assert not re.search(r"build-essential|\bgcc\b|\bg\+\+|\bmake\b", final_runs), (
        "a compiler in the final image"
    )
    users = [argument for name, argument in final if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(name == "COPY" and "--from=builder" in argument for name, argument in final)


def test_the_image_copies_files_that_exist_and_sets_only_known_variables() -> None:
    for stage in _stages():
        for name, argument in stage:
            if name == "COPY" and "--from=" not in argument:
                *sources, _destination = [part for part in argument.split() if not part.startswith("--")]
                for source in sources:
                    assert (PROJECT_ROOT / source).exists(), f"COPY {source}: no such file"
            if name == "ENV":
                variables = set(re.findall(r"([A-Z_][A-Z0-9_]*)=", argument))
                assert variables - SETTINGS - PYTHON_VARIABLES == set(), argument


def test_the_entrypoint_runs_commands_and_code_locations_that_exist() -> None:
    from hubspot_pipeline.cli import COMMANDS

    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert ENTRYPOINT.stat().st_mode & 0o111, "the entrypoint is not executable"
    script = ENTRYPOINT.read_text()
    assert set(re.findall(r"hubspot-pipeline (\w[\w-]*)", script)) <= set(COMMANDS)
    modules = set(re.findall(r"--module-name (\S+)", script))
    workspace = {
        entry["python_module"]["module_name"] for entry in _load(PROJECT_ROOT / "workspace.yaml")["load_from"]
    }
    assert modules == workspace
    assert all(importlib.util.find_spec(module) for module in modules)
    assert '"/app/deploy/entrypoint.sh"' in DOCKERFILE.read_text()  # the ENTRYPOINT, copied there


# --- run pods and code servers never import dagster_k8s ----------------------------------------------------


def test_no_code_location_imports_dagster_k8s() -> None:
    assert importlib.util.find_spec("dagster_k8s") is not None, "dagster-k8s is installed with [test]"
    script = (
        "import sys\n"
        "from hubspot_pipeline.definitions import defs\n"
        "from hubspot_pipeline.engagement_location.definitions import defs as engagement\n"
        "defs(); engagement()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster_k8s', 'kubernetes')))\n"
    )
    output = python_output(script)
    assert output.strip().splitlines()[-1] == "[]"
