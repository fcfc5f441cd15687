"""Settings, read from environment variables and, for secrets, from files.

The ConfigMap's settings are environment variables. The secrets (SECRET_NAMES) are files in
SECRETS_DIR, where the pod mounts the Kubernetes Secret (one file per key, named like the variable),
or environment variables of the same names, so a plain `docker run -e` keeps working. When a secret
is given both ways the two values must be equal; the process refuses to start otherwise, since
either could be the stale one.

A missing or invalid required setting stops the process at start-up with a message that names
every offending variable, instead of failing later on the first request that needs it. No message
ever contains a secret's value.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

DEFAULT_SECRETS_DIR = "/run/secrets/app"
SECRET_NAMES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "SENTRY_DSN", "API_TOKENS")


class SecretsDirError(Exception):
    """SECRETS_DIR, or a secret's file in it, cannot be used; one problem per line, never a value."""


def secrets_dir() -> Path | None:
    """SECRETS_DIR after checking it and every secret's file in it; None when it is the default and
    does not exist (a container started without the Secret's volume, a developer's shell)."""
    configured = os.environ.get("SECRETS_DIR", "").strip()
    path = Path(configured or DEFAULT_SECRETS_DIR)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if configured:
            raise SecretsDirError(f"SECRETS_DIR: {path} does not exist") from None
        return None
    if not stat.S_ISDIR(mode):
        raise SecretsDirError(f"SECRETS_DIR: {path} is not a directory")
    problems = []
    # Kubernetes mounts a Secret's volume world-writable (mode 1777) but always read-only, which
    # is what makes it safe; writable by anyone, a file planted there would become a secret.
    if mode & stat.S_IWOTH and not os.statvfs(path).f_flag & os.ST_RDONLY:
        problems.append(f"SECRETS_DIR: {path} is writable by every user; mount it read-only or remove o+w")
    for name in SECRET_NAMES:
        problem = _secret_file_problem(path / name, name)
        if problem:
            problems.append(f"{name}: {problem}")
    if problems:
        raise SecretsDirError("\n".join(problems))
    return path


def _secret_file_problem(file: Path, name: str) -> str | None:
    """Why FILE cannot be the value of secret NAME, or None (also when it does not exist)."""
    if not os.path.lexists(file):
        return None
    try:
        # Kubernetes' files are links into a timestamped directory beside them: follow them.
        if not stat.S_ISREG(file.stat().st_mode):
            return f"{file} is not a regular file"
        value = file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return f"{file} is a link to nothing"
    except UnicodeDecodeError:
        return f"{file} is not UTF-8 text"
    if name in os.environ and os.environ[name].strip() != value:
        return f"the environment variable and {file} differ; set it in one place"
    return None


class SecretFiles(SecretsSettingsSource):
    """pydantic-settings' secrets_dir source, on the directory secrets_dir() checked, for the
    secrets only: a file named like a ConfigMap setting (DEBUG, ENVIRONMENT) is not read."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls, secrets_dir=secrets_dir())

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name.upper() not in SECRET_NAMES:
            return None, field_name, False
        return super().get_field_value(field, field_name)


def to_driver_url(url: str, driver: str = "psycopg") -> str:
    """Turn the platform's plain ``postgresql://`` URL into SQLAlchemy's ``postgresql+<driver>://``.

    The Kubernetes Secret holds a driver-neutral URL so that every app (and psql) can use it; only
    this process knows which driver it uses.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return f"postgresql+{driver}://" + url[len(prefix) :]
    if url.startswith("postgresql+"):
        return url
    raise ValueError("DATABASE_URL must start with postgresql:// (e.g. postgresql://user:pass@host:5432/db)")


# The same rule as Django's, so the platform states one: 50 characters outside development.
MIN_SECRET_KEY_LENGTH = 50
# API tokens are random strings the platform generates; 32 characters leave guessing hopeless.
MIN_API_TOKEN_LENGTH = 32
# RFC 6750's b64token: the characters a bearer token may carry in an Authorization header.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class EnvironmentAndSecretFiles(BaseSettings):
    # Environment variables are matched case-insensitively (DATABASE_URL -> database_url).
    # No .env file is read: in a container the environment and the Secret's files are the sources.
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # A secret's file before its environment variable (secrets_dir() has made sure they agree).
        return init_settings, SecretFiles(settings_cls), env_settings


class DatabaseSettings(EnvironmentAndSecretFiles):
    """What a migration needs, and all that `alembic upgrade` reads."""

    # Required: no sensible default exists for where the data lives.
    database_url: SecretStr

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        to_driver_url(value.get_secret_value())  # raises with a clear message
        return value

    @property
    def libpq_database_url(self) -> str:
        """The URL for psycopg used directly (readiness, dependency checks): no SQLAlchemy driver suffix."""
        url = self.database_url.get_secret_value()
        return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql+") else url

    @property
    def sync_database_url(self) -> str:
        # psycopg 3 serves both the async app and the sync Celery worker / Alembic.
        return to_driver_url(self.database_url.get_secret_value())


class Settings(DatabaseSettings):
    environment: Literal["development", "test", "staging", "production"] = "production"
    app_name: str = "api-stack-fastapi"
    app_version: str = "0.0.0"
    # Off unless asked for: debug output leaks internals.
    debug: bool = False
    # Comma-separated list of allowed origins; empty means no cross-origin access.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Required: no sensible default exists for the broker or the signing key.
    redis_url: SecretStr
    secret_key: SecretStr
    # Previous signing keys, comma-separated: tokens they signed still verify, nothing new is signed
    # with them. Rotation: deploy the new SECRET_KEY with the old one here, wait until tokens signed
    # with the old key have expired, then drop it.
    secret_key_fallbacks: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # The bearer tokens that may use the notes API, comma-separated. Several, so a token can be
    # rotated without downtime: add the new one, move the clients, remove the old one. Required in
    # every environment: without a token nobody could use the API, and no default is safe.
    api_tokens: Annotated[list[SecretStr], NoDecode]

    # /metrics is served by the gunicorn master on this port only, never on the app port.
    metrics_port: int = Field(default=9000, ge=1, le=65535)

    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=10, ge=0, le=100)
    access_token_expire_minutes: int = Field(default=30, ge=1)
    refresh_token_expire_days: int = Field(default=7, ge=1)

    otel_exporter_otlp_endpoint: str | None = None
    sentry_dsn: SecretStr | None = None

    # A task running longer than the soft limit gets SoftTimeLimitExceeded, at the hard limit its
    # process is killed. The worker pod's terminationGracePeriodSeconds must exceed the hard limit
    # so a warm shutdown can wait for running tasks. An unacknowledged task (acks_late) goes back to
    # the queue after the visibility timeout, so it must exceed the hard limit too, or a task still
    # running would be handed to a second worker.
    celery_task_time_limit: int = Field(default=60, ge=1)
    celery_task_soft_time_limit: int = Field(default=50, ge=1)
    celery_visibility_timeout: int = Field(default=300, ge=1)

    @field_validator("cors_origins", "secret_key_fallbacks", "api_tokens", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin {origin!r} must start with http:// or https://")
        return origins

    @field_validator("api_tokens")
    @classmethod
    def _check_api_tokens(cls, tokens: list[SecretStr], info: ValidationInfo) -> list[SecretStr]:
        if not tokens:
            raise ValueError("at least one token is required")
        strict = info.data.get("environment") in ("staging", "production")
        for number, token in enumerate(tokens, 1):
            value = token.get_secret_value()
            if not B64TOKEN.fullmatch(value):
                raise ValueError(
                    f"token {number} of {len(tokens)} has characters other than A-Z a-z 0-9 - . _ ~ + / "
                    "(and = at its end)"
                )
            if strict and len(value) < MIN_API_TOKEN_LENGTH:
                raise ValueError(
                    f"token {number} of {len(tokens)} is shorter than {MIN_API_TOKEN_LENGTH} characters, "
                    "the minimum in staging and production"
                )
        return tokens

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("redis://", "rediss://")):
            raise ValueError("REDIS_URL must start with redis:// or rediss://")
        return value

    @field_validator("otel_exporter_otlp_endpoint", "sentry_dsn", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A ConfigMap key that exists but is empty means "off", not "invalid".
        return None if value == "" else value

    @model_validator(mode="after")
    def _celery_limits(self) -> Settings:
        hard = self.celery_task_time_limit
        if self.celery_task_soft_time_limit >= hard:
            raise ValueError(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({self.celery_task_soft_time_limit}) must be below "
                f"CELERY_TASK_TIME_LIMIT ({hard})"
            )
        if self.celery_visibility_timeout <= hard:
            raise ValueError(
                f"CELERY_VISIBILITY_TIMEOUT ({self.celery_visibility_timeout}) must exceed "
                f"CELERY_TASK_TIME_LIMIT ({hard}), or running tasks are redelivered to another worker"
            )
        return self

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.environment in ("staging", "production"):
            if self.debug:
                raise ValueError(f"DEBUG must be false when ENVIRONMENT={self.environment}")
            if len(self.secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters outside development")
            if any(len(key.get_secret_value()) < MIN_SECRET_KEY_LENGTH for key in self.secret_key_fallbacks):
                raise ValueError(
                    f"every key in SECRET_KEY_FALLBACKS must be at least {MIN_SECRET_KEY_LENGTH} characters "
                    "outside development"
                )
            if "*" in self.cors_origins:
                raise ValueError("CORS_ORIGINS='*' is not allowed outside development")
        return self

    @property
    def async_database_url(self) -> str:
        return to_driver_url(self.database_url.get_secret_value())


def format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = "_".join(str(part) for part in err["loc"]).upper() or "settings"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}" if err["type"] != "missing" else f"  {name}: required but not set")
    return "invalid configuration:\n" + "\n".join(lines)


AnySettings = TypeVar("AnySettings", bound=EnvironmentAndSecretFiles)


def load_settings(cls: type[AnySettings] = Settings) -> AnySettings:
    """Build the settings or exit with a readable list of what is wrong (never the values)."""
    try:
        return cls()  # type: ignore[call-arg]  # values come from the environment and SECRETS_DIR
    except ValidationError as exc:
        message = format_errors(exc)
    except SecretsDirError as exc:
        message = "invalid configuration:\n" + "\n".join(f"  {line}" for line in str(exc).splitlines())
    sys.stderr.write(message + "\n")
    raise SystemExit(78)  # EX_CONFIG


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
