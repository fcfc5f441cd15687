"""Settings, read from environment variables only (ConfigMap and Secret in Kubernetes).

A missing or invalid required setting stops the process at start-up with a message that names
every offending variable, instead of failing later on the first request that needs it.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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


class Settings(BaseSettings):
    # Environment variables are matched case-insensitively (DATABASE_URL -> database_url).
    # No .env file is read: in a container the environment is the single source of truth.
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    environment: Literal["development", "test", "staging", "production"] = "production"
    app_name: str = "api-stack-fastapi"
    app_version: str = "0.0.0"
    # Off unless asked for: debug output leaks internals.
    debug: bool = False
    # Comma-separated list of allowed origins; empty means no cross-origin access.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Required: no sensible default exists for where the data lives or for the signing key.
    database_url: SecretStr
    redis_url: SecretStr
    secret_key: SecretStr
    # Previous signing keys, comma-separated: tokens they signed still verify, nothing new is signed
    # with them. Rotation: deploy the new SECRET_KEY with the old one here, wait until tokens signed
    # with the old key have expired, then drop it.
    secret_key_fallbacks: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

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

    @field_validator("cors_origins", "secret_key_fallbacks", mode="before")
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

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        to_driver_url(value.get_secret_value())  # raises with a clear message
        return value

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

    @property
    def libpq_database_url(self) -> str:
        """The URL for psycopg used directly (readiness, dependency checks): no SQLAlchemy driver suffix."""
        url = self.database_url.get_secret_value()
        return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql+") else url

    @property
    def sync_database_url(self) -> str:
        # psycopg 3 serves both the async app and the sync Celery worker / Alembic.
        return to_driver_url(self.database_url.get_secret_value())


def format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = "_".join(str(part) for part in err["loc"]).upper() or "settings"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}" if err["type"] != "missing" else f"  {name}: required but not set")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings() -> Settings:
    """Build Settings or exit with a readable list of what is wrong (never the values)."""
    try:
        return Settings()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as exc:
        sys.stderr.write(format_errors(exc) + "\n")
        raise SystemExit(78) from None  # EX_CONFIG


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
