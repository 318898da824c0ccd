"""HUBSPOT_PIPELINE_ENV=production: a process that would fall back to something of its own (an embedded
database, the local sandbox, a key or secret generated in its data folder) refuses to start, naming each
variable; processes of a deployment share no folder, so another one would silently use a different value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hubspot_pipeline.settings import PRODUCTION_REQUIRED, SettingsError, get_settings, load_settings

CONFIGURED = {
    "DATABASE_URL": "postgresql://app@db.internal:5432/app",
    "HUBSPOT_API_BASE_URL": "https://api.hubapi.com",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "STATE_SIGNING_SECRET": "s" * 40,
    "WORKFLOW_SIGNING_SECRET": "w" * 40,
    "PRIVACY_HASH_SECRET": "p" * 40,
}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name in CONFIGURED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUBSPOT_PIPELINE_ENV", "production")
    yield monkeypatch
    get_settings.cache_clear()


def test_production_names_every_value_a_process_would_make_up_locally(production) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    for variable in PRODUCTION_REQUIRED:
        assert f"{variable}: required with HUBSPOT_PIPELINE_ENV=production" in message
    assert sorted(PRODUCTION_REQUIRED) == sorted(CONFIGURED)


@pytest.mark.parametrize("missing", sorted(CONFIGURED))
def test_production_refuses_each_missing_value_alone(production, missing: str) -> None:
    for name, value in CONFIGURED.items():
        if name != missing:
            production.setenv(name, value)
    if missing.endswith(("_KEYS", "_SECRET")):
        production.setenv(missing, "  ")  # a blank secret counts as unset
    with pytest.raises(SettingsError, match=f"{missing}: required") as refused:
        load_settings()
    assert str(refused.value).count("required with") == 1
    assert "p" * 40 not in str(refused.value)  # secrets are never echoed


def test_production_with_everything_set_loads_and_development_needs_none_of_it(production) -> None:
    for name, value in CONFIGURED.items():
        production.setenv(name, value)
    assert load_settings().environment == "production"
    production.setenv("HUBSPOT_PIPELINE_ENV", "development")
    for name in CONFIGURED:
        production.delenv(name)
    assert load_settings().environment == "development"


def test_the_api_refuses_to_start_in_production_without_the_token_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    env.update(CONFIGURED, HUBSPOT_PIPELINE_ENV="production", HUBSPOT_PIPELINE_DATA_DIR=str(tmp_path))
    del env["TOKEN_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hubspot-pipeline"), "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS: required with HUBSPOT_PIPELINE_ENV=production" in result.stderr
    assert not list(tmp_path.glob("*.key"))  # and it generated no key of its own
