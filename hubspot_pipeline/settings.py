"""Every environment variable the project reads, in one place.

Values come from the process environment and from a `.env` file in the working directory. A missing or
malformed value fails at start with a message that names the variable and says what to put in it.
Nothing else in the package reads `os.environ` for configuration, and `export_settings` is the one place
that writes it (for the processes the project starts: the API, Dagster's webserver, daemon and runs).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The sandbox's fixed demo credentials: a local HubSpot needs a client id/secret like the real one, and
# these are only ever valid against `hubspot-pipeline sandbox`.
SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
SANDBOX_DEVELOPER_API_KEY = "sandbox-developer-key"


class SettingsError(RuntimeError):
    """A configuration value is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # PostgreSQL: app tables, sync state, queues and Dagster storage. Unset: an embedded server is started.
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # Where the embedded PostgreSQL keeps its files, and other local state (git-ignored).
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", alias="HUBSPOT_PIPELINE_DATA_DIR")
    # `production`: the processes of a deployment share PostgreSQL, the network and their settings, never a
    # folder. Every value a local install makes up or keeps in the data folder (the embedded database, the
    # local sandbox, generated keys and secrets) must then be set, and a process refuses to start without it
    # (`production_problems`). `development` (the default): `make demo`, `make dev`, tests.
    environment: Literal["development", "production"] = Field(
        default="development", alias="HUBSPOT_PIPELINE_ENV"
    )

    # A private app's token, used by `hubspot-pipeline sync` instead of the workspace's OAuth connection.
    hubspot_private_app_token: SecretStr | None = Field(default=None, alias="HUBSPOT_PRIVATE_APP_TOKEN")

    # The seed's HubSpot names.
    hubspot_client_id: str = Field(default=SANDBOX_CLIENT_ID, alias="HUBSPOT_CLIENT_ID")
    hubspot_client_secret: SecretStr = Field(
        default=SecretStr(SANDBOX_CLIENT_SECRET), alias="HUBSPOT_CLIENT_SECRET"
    )
    hubspot_redirect_uri: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://localhost:8000/api/integrations/hubspot/callback"),
        alias="HUBSPOT_REDIRECT_URI",
    )
    # Unset means the local sandbox (started by the demo and `make dev`); production: https://api.hubapi.com
    hubspot_api_base_url: AnyHttpUrl | None = Field(default=None, alias="HUBSPOT_API_BASE_URL")
    hubspot_api_version: str = Field(default="v3", alias="HUBSPOT_API_VERSION")
    # Where users are sent to approve the app; the sandbox serves its own /oauth/authorize.
    hubspot_authorize_url: AnyHttpUrl | None = Field(default=None, alias="HUBSPOT_AUTHORIZE_URL")
    hubspot_app_id: int = Field(default=1, alias="HUBSPOT_APP_ID")

    # Token encryption: comma-separated Fernet keys, newest first (rotation: prepend a key, then run
    # `hubspot-pipeline rotate-keys`). Unset: a local key is generated under the data folder.
    token_encryption_keys: SecretStr | None = Field(default=None, alias="TOKEN_ENCRYPTION_KEYS")
    # Signs OAuth `state` values. Unset: derived from a local secret under the data folder.
    state_signing_secret: SecretStr | None = Field(default=None, alias="STATE_SIGNING_SECRET")

    # The public URL HubSpot posts webhooks to (v3 signatures cover it). Behind a proxy, set it explicitly.
    webhook_public_url: AnyHttpUrl | None = Field(default=None, alias="WEBHOOK_PUBLIC_URL")
    # Largest webhook request accepted, in bytes (HubSpot sends at most 100 events of a few hundred bytes).
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024, alias="WEBHOOK_MAX_BODY_BYTES")
    # The developer account's API key, to read the app's webhook settings (POST /webhooks/verify). Optional.
    hubspot_developer_api_key: SecretStr | None = Field(default=None, alias="HUBSPOT_DEVELOPER_API_KEY")
    # Accept v1/v2 signatures from apps that predate v3; v3 is always accepted. Off by default: v1/v2 sign no
    # timestamp, so a captured delivery stripped of its v3 headers could be replayed at any time; with them on,
    # only de-duplication on the event key stands against replays (docs/architecture.md, "API security").
    webhook_accept_legacy_signatures: bool = Field(default=False, alias="WEBHOOK_ACCEPT_LEGACY_SIGNATURES")

    # The API service (`hubspot-pipeline serve`).
    api_host: str = Field(default="127.0.0.1", alias="API_HOST")
    api_port: int = Field(default=8000, ge=1, le=65535, alias="API_PORT")

    # Workflow triggers. Custom actions go to https URLs on public addresses only; this allows private,
    # loopback and link-local addresses and plain http too (a receiver on the same network, tests, `make dev`).
    workflow_actions_allow_private_urls: bool = Field(
        default=False, alias="WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS"
    )
    # Signs custom actions: each workspace's secret is an HMAC of it and the workspace id (GET /workflows shows
    # the workspace its own). Unset: a secret generated once under the data folder, for local use only; a
    # deployment sets it, the same on every host, and changing it changes every workspace's secret.
    workflow_signing_secret: SecretStr | None = Field(default=None, alias="WORKFLOW_SIGNING_SECRET")
    # How long one custom-action delivery may take (connect and answer), in seconds.
    workflow_action_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, alias="WORKFLOW_ACTION_TIMEOUT_SECONDS"
    )
    # POST /workflows/process runs the actions of the event it stores for at most this long, then answers;
    # what is left runs in the next trigger run (queued, status pending).
    workflow_process_budget_seconds: float = Field(
        default=5.0, ge=0, le=60, alias="WORKFLOW_PROCESS_BUDGET_SECONDS"
    )

    # Monitoring. GET /metrics spans every workspace, so it has its own bearer token (unset: /metrics refuses
    # every scrape, saying so). Apprise URLs (Slack, mailto, json:// webhooks, ...), comma or space separated,
    # where alerts are sent; they hold secrets (webhook tokens, passwords) and are never logged.
    metrics_token: SecretStr | None = Field(default=None, alias="METRICS_TOKEN")
    alert_notify_urls: SecretStr | None = Field(default=None, alias="ALERT_NOTIFY_URLS")
    # Alert thresholds (monitoring/rules.py); the defaults suit a 15-minute sync schedule.
    alert_error_rate: float = Field(default=0.10, gt=0, le=1, alias="ALERT_ERROR_RATE")
    alert_error_window_minutes: float = Field(default=15, gt=0, alias="ALERT_ERROR_WINDOW_MINUTES")
    alert_error_min_calls: int = Field(default=20, ge=1, alias="ALERT_ERROR_MIN_CALLS")
    alert_queue_delay_minutes: float = Field(default=10, gt=0, alias="ALERT_QUEUE_DELAY_MINUTES")
    alert_cursor_lag_minutes: float = Field(default=60, gt=0, alias="ALERT_CURSOR_LAG_MINUTES")
    alert_sync_missed_minutes: float = Field(default=60, gt=0, alias="ALERT_SYNC_MISSED_MINUTES")
    alert_daily_budget_ratio: float = Field(default=0.8, gt=0, le=1, alias="ALERT_DAILY_BUDGET_RATIO")
    alert_rate_limited_count: int = Field(default=20, ge=1, alias="ALERT_RATE_LIMITED_COUNT")
    alert_renotify_minutes: float = Field(default=240, gt=0, alias="ALERT_RENOTIFY_MINUTES")
    alert_max_notifications: int = Field(default=3, ge=1, alias="ALERT_MAX_NOTIFICATIONS")

    # GDPR erasure (hubspot_pipeline/privacy). The key of the keyed hash (HMAC-SHA256) an erasure keeps of the
    # email instead of the email, so the sync never re-creates the person. Required with a real HubSpot app
    # (HUBSPOT_CLIENT_ID set); unset otherwise: derived from the local signing secret (STATE_SIGNING_SECRET or
    # the one under the data folder). Never change it: erased emails would no longer be recognised.
    privacy_hash_secret: SecretStr | None = Field(default=None, alias="PRIVACY_HASH_SECRET")
    # Retention: personal data kept only for its purpose, purged by `retention_job` (daily) in small batches.
    retention_webhook_events_days: float = Field(default=30, gt=0, alias="RETENTION_WEBHOOK_EVENTS_DAYS")
    retention_outbox_days: float = Field(default=30, gt=0, alias="RETENTION_OUTBOX_DAYS")
    retention_conflict_values_days: float = Field(default=90, gt=0, alias="RETENTION_CONFLICT_VALUES_DAYS")
    retention_message_bodies_days: float = Field(default=365, gt=0, alias="RETENTION_MESSAGE_BODIES_DAYS")
    retention_audit_details_days: float = Field(default=365, gt=0, alias="RETENTION_AUDIT_DETAILS_DAYS")
    retention_batch_size: int = Field(default=1000, ge=1, le=50_000, alias="RETENTION_BATCH_SIZE")

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError(
                "must be at least 16 characters; generate one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgres(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError(
                "must be a PostgreSQL URL such as postgresql://user:password@host:5432/dbname "
                "(or leave it unset to use the embedded PostgreSQL)"
            )
        return value

    @field_validator("hubspot_api_version")
    @classmethod
    def _api_version_is_known(cls, value: str) -> str:
        import re

        if value == "v3" or re.fullmatch(r"\d{4}-\d{2}", value):
            return value
        raise ValueError("must be 'v3' or a dated version such as '2026-03'")

    @field_validator("token_encryption_keys")
    @classmethod
    def _keys_are_fernet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from cryptography.fernet import Fernet

        for index, key in enumerate(value.get_secret_value().split(",")):
            try:
                Fernet(key.strip())
            except (ValueError, TypeError):
                raise ValueError(
                    f"key #{index + 1} is not a Fernet key (32 url-safe base64-encoded bytes); generate one with "
                    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
                ) from None
        return value


def developer_api_key(settings: Settings) -> str | None:
    """The app's developer API key (timeline event templates, webhook settings): HUBSPOT_DEVELOPER_API_KEY,
    or the sandbox's fixed one while the app is the sandbox's (HUBSPOT_CLIENT_ID unset)."""
    if settings.hubspot_developer_api_key is not None:
        return settings.hubspot_developer_api_key.get_secret_value()
    return SANDBOX_DEVELOPER_API_KEY if settings.hubspot_client_id == SANDBOX_CLIENT_ID else None


def _describe(error: ValidationError) -> str:
    by_alias = {field.alias or name.upper(): field for name, field in Settings.model_fields.items()}
    lines = []
    for problem in error.errors():
        variable = str(problem["loc"][0]) if problem["loc"] else "?"
        field = by_alias.get(variable) or Settings.model_fields.get(variable)
        secret = field is not None and "SecretStr" in str(field.annotation)
        shown = "<hidden>" if secret else repr(problem.get("input"))
        lines.append(f"{variable}: {problem['msg']} (got {shown})")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


# In production, what each of these would fall back to lives in one process's data folder or on its own
# machine; another process (an API replica, a run worker, the daemon) would silently use a different one.
PRODUCTION_REQUIRED: dict[str, str] = {
    "DATABASE_URL": "unset, each process would start an embedded PostgreSQL in its own data folder",
    "HUBSPOT_API_BASE_URL": "unset, calls go to a local sandbox at 127.0.0.1:8765; set https://api.hubapi.com",
    "TOKEN_ENCRYPTION_KEYS": "unset, each process generates its own key in its data folder and cannot read "
    "tokens another encrypted",
    "STATE_SIGNING_SECRET": "unset, each process signs OAuth state with its own local secret, so a callback "
    "reaching another replica is refused",
    "WORKFLOW_SIGNING_SECRET": "unset, each process signs custom actions with its own local secret",
    "PRIVACY_HASH_SECRET": "unset, erasure hashes are keyed by a local secret; another process would not "
    "recognise an erased email",
}


def production_problems(settings: Settings) -> list[str]:
    """What a production process lacks (HUBSPOT_PIPELINE_ENV=production), one line per variable; empty in
    development, where local defaults stand in."""
    if settings.environment != "production":
        return []
    by_alias = {field.alias: name for name, field in Settings.model_fields.items()}
    problems = []
    for variable, why in PRODUCTION_REQUIRED.items():
        value = getattr(settings, by_alias[variable])
        if isinstance(value, SecretStr):
            value = value.get_secret_value().strip()
        if not value:
            problems.append(f"{variable}: required with HUBSPOT_PIPELINE_ENV=production ({why})")
    return problems


def load_settings() -> Settings:
    """Read the environment, raising `SettingsError` that names each bad variable (in production, each
    missing one too)."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    problems = production_problems(settings)
    if problems:
        raise SettingsError("Invalid configuration:\n  " + "\n  ".join(problems))
    return settings


@functools.cache
def get_settings() -> Settings:
    return load_settings()


# Variables other programs read, which the project sets for the processes it starts.
OTHER_PROGRAMS_VARIABLES = frozenset(
    {"DAGSTER_HOME", "DAGSTER_PG_URL", "DAGSTER_COMPUTE_LOGS_DIR", "XDG_RUNTIME_DIR"}
)


def export_settings(*, keep_existing: bool = False, **values: str) -> None:
    """Set variables for this process and every process it starts, which read them as their settings (or,
    for Dagster and the embedded PostgreSQL, as theirs). The one place the project writes the environment.
    `keep_existing`: leave a variable that is already set as it is."""
    known = {field.alias for field in Settings.model_fields.values()} | OTHER_PROGRAMS_VARIABLES
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"not a setting of this project: {', '.join(unknown)}")
    for name, value in values.items():
        if keep_existing:
            os.environ.setdefault(name, value)
        else:
            os.environ[name] = value
    get_settings.cache_clear()
