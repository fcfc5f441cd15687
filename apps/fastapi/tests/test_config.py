from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.config import Settings, format_errors, to_driver_url

from .conftest import APP_DIR, BASE_ENV


def settings(monkeypatch: pytest.MonkeyPatch, **overrides: str | None) -> Settings:
    for key, value in {**BASE_ENV, **overrides}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    return Settings()


def test_reads_every_contract_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(
        monkeypatch,
        CORS_ORIGINS="https://a.example.com, https://b.example.com,",
        DB_POOL_SIZE="7",
        DB_MAX_OVERFLOW="3",
        ACCESS_TOKEN_EXPIRE_MINUTES="15",
        REFRESH_TOKEN_EXPIRE_DAYS="2",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://otel-collector:4318",
        SENTRY_DSN="",
        SECRET_KEY_FALLBACKS=f"{'a' * 50}, {'b' * 50},",
        METRICS_PORT="9100",
        CELERY_TASK_TIME_LIMIT="120",
        CELERY_TASK_SOFT_TIME_LIMIT="100",
        CELERY_VISIBILITY_TIMEOUT="600",
    )
    assert s.environment == "test"
    assert (s.app_name, s.app_version, s.debug) == ("notes-test", "1.2.3", False)
    assert s.cors_origins == ["https://a.example.com", "https://b.example.com"]
    assert (s.db_pool_size, s.db_max_overflow) == (7, 3)
    assert (s.access_token_expire_minutes, s.refresh_token_expire_days) == (15, 2)
    assert s.otel_exporter_otlp_endpoint == "http://otel-collector:4318"
    assert s.sentry_dsn is None  # empty means off
    assert [key.get_secret_value() for key in s.secret_key_fallbacks] == ["a" * 50, "b" * 50]
    assert s.metrics_port == 9100
    assert (s.celery_task_time_limit, s.celery_task_soft_time_limit, s.celery_visibility_timeout) == (120, 100, 600)


def test_defaults_of_the_new_contract_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch)
    assert s.secret_key_fallbacks == []
    assert s.metrics_port == 9000
    assert (s.celery_task_time_limit, s.celery_task_soft_time_limit, s.celery_visibility_timeout) == (60, 50, 300)


def test_psycopg_used_directly_gets_a_plain_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        settings(monkeypatch, DATABASE_URL="postgresql+psycopg://u:p@db/app").libpq_database_url
        == "postgresql://u:p@db/app"
    )
    assert settings(monkeypatch, DATABASE_URL="postgres://u:p@db/app").libpq_database_url == "postgres://u:p@db/app"


def test_database_url_gets_the_driver() -> None:
    assert to_driver_url("postgresql://u:p@db:5432/app") == "postgresql+psycopg://u:p@db:5432/app"
    assert to_driver_url("postgres://u:p@db/app") == "postgresql+psycopg://u:p@db/app"
    with pytest.raises(ValueError, match="postgresql://"):
        to_driver_url("mysql://u:p@db/app")


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "API_TOKENS"])
def test_missing_required_setting_is_named(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    with pytest.raises(ValidationError) as exc:
        settings(monkeypatch, **{missing: None})
    assert f"{missing}: required but not set" in format_errors(exc.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL must start with postgresql://"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis://"),
        ({"CORS_ORIGINS": "example.com"}, "must start with http:// or https://"),
        ({"ENVIRONMENT": "production", "DEBUG": "true"}, "DEBUG must be false"),
        ({"ENVIRONMENT": "production", "SECRET_KEY": "x" * 49}, "SECRET_KEY must be at least 50 characters"),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY_FALLBACKS": f"{'x' * 50},short"},
            "SECRET_KEY_FALLBACKS must be at least 50",
        ),
        ({"ENVIRONMENT": "staging", "CORS_ORIGINS": "*"}, "not allowed outside development"),
        ({"API_TOKENS": " , "}, "API_TOKENS: at least one token is required"),
        (
            {"API_TOKENS": f"{'t' * 40},two words"},
            "API_TOKENS: token 2 of 2 has characters other than A-Z a-z 0-9 - . _ ~ + / (and = at its end)",
        ),
        (
            {"ENVIRONMENT": "production", "API_TOKENS": f"{'t' * 32},{'s' * 31}"},
            "API_TOKENS: token 2 of 2 is shorter than 32 characters, the minimum in staging and production",
        ),
        ({"METRICS_PORT": "0"}, "METRICS_PORT"),
        (
            {"CELERY_TASK_SOFT_TIME_LIMIT": "60"},
            "CELERY_TASK_SOFT_TIME_LIMIT (60) must be below CELERY_TASK_TIME_LIMIT (60)",
        ),
        (
            {"CELERY_TASK_TIME_LIMIT": "300", "CELERY_TASK_SOFT_TIME_LIMIT": "200"},
            "CELERY_VISIBILITY_TIMEOUT (300) must exceed CELERY_TASK_TIME_LIMIT (300)",
        ),
    ],
)
def test_invalid_settings_are_rejected(monkeypatch: pytest.MonkeyPatch, overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        settings(monkeypatch, **overrides)
    assert message in format_errors(exc.value)


def test_production_accepts_keys_of_fifty_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch, ENVIRONMENT="production", SECRET_KEY="k" * 50, SECRET_KEY_FALLBACKS="f" * 50)
    assert len(s.secret_key.get_secret_value()) == 50
    assert len(s.secret_key_fallbacks) == 1


def test_api_tokens_outside_staging_and_production_may_be_short(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch, ENVIRONMENT="development", API_TOKENS="dev, also-dev ,")
    assert [token.get_secret_value() for token in s.api_tokens] == ["dev", "also-dev"]
    s = settings(monkeypatch, ENVIRONMENT="production", API_TOKENS="a" * 32 + "==")
    assert len(s.api_tokens) == 1


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch, SECRET_KEY_FALLBACKS="previous-key-" + "p" * 40)
    assert "test-secret-key" not in repr(s)
    assert "previous-key-" not in repr(s)
    assert BASE_ENV["API_TOKENS"].split(",")[0] not in repr(s)
    assert BASE_ENV["DATABASE_URL"] not in repr(s)


def test_process_exits_with_a_clear_message_when_misconfigured() -> None:
    # The gunicorn master's on_starting hook calls load_settings(): same code path, real process.
    env = {"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "x" * 40}
    proc = subprocess.run(
        [sys.executable, "-c", "from app.config import load_settings; load_settings()"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 78
    assert "invalid configuration" in proc.stderr
    assert "DATABASE_URL: required but not set" in proc.stderr
    assert "x" * 40 not in proc.stderr
