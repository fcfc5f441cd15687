"""Settings are module-level in Django, so each configuration is checked in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .helpers import APP_DIR

SECRET = "s" * 60


def load(**overrides: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SECRET_KEY": SECRET}
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    code = (
        "from django.conf import settings; s = settings;"
        "print(s.ENVIRONMENT, s.APP_NAME, s.APP_VERSION, s.DEBUG, s.CORS_ORIGINS, s.DB_POOL_SIZE,"
        " s.DB_MAX_OVERFLOW, s.ACCESS_TOKEN_EXPIRE_MINUTES, s.REFRESH_TOKEN_EXPIRE_DAYS,"
        " s.DATABASES['default']['HOST'], s.DATABASES['default']['OPTIONS']['pool']['max_size'],"
        " len(s.SECRET_KEY_FALLBACKS), s.METRICS_PORT, s.FORWARDED_ALLOW_IPS, s.ALLOWED_HOSTS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_reads_the_contract_variables() -> None:
    proc = load(
        CORS_ORIGINS="https://a.example.com,https://b.example.com",
        DB_POOL_SIZE="3",
        DB_MAX_OVERFLOW="4",
        ACCESS_TOKEN_EXPIRE_MINUTES="15",
        REFRESH_TOKEN_EXPIRE_DAYS="2",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(" ", 4)[:4] == ["test", "notes-test", "1.2.3", "False"]
    assert "['https://a.example.com', 'https://b.example.com'] 3 4 15 2 127.0.0.1 7 0 9000" in proc.stdout
    assert "[IPv4Network('127.0.0.1/32')] ['*']" in proc.stdout  # defaults: loopback proxy only, any host


def test_reads_rotation_metrics_proxy_and_host_variables() -> None:
    proc = load(
        SECRET_KEY_FALLBACKS=f"{'a' * 50}, {'b' * 50}",
        METRICS_PORT="9100",
        FORWARDED_ALLOW_IPS="10.42.0.0/16, 192.0.2.7",
        ALLOWED_HOSTS="api.example.com, .svc.cluster.local",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith(
        "2 9100 [IPv4Network('10.42.0.0/16'), IPv4Network('192.0.2.7/32')] ['api.example.com', '.svc.cluster.local']"
    )
    assert load(FORWARDED_ALLOW_IPS="*").stdout.rstrip().endswith("None ['*']")


def test_api_tokens_and_the_admin_switch() -> None:
    code = "from django.conf import settings as s; print(s.API_TOKENS, s.DJANGO_ADMIN_ENABLED)"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**os.environ, "ENVIRONMENT": "development", "API_TOKENS": "dev, also-dev ,"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["['dev',", "'also-dev']", "False"]  # short tokens outside staging/production
    enabled = subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**os.environ, "DJANGO_ADMIN_ENABLED": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert enabled.stdout.split()[-1] == "True"


def test_every_missing_variable_is_named_and_the_process_exits() -> None:
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "API_TOKENS"):
        assert f"{name}: required but not set" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT: must be one of"),
        ({"DEBUG": "maybe"}, "DEBUG: expected true or false"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE: must be between 1"),
        ({"DB_MAX_OVERFLOW": "lots"}, "DB_MAX_OVERFLOW: expected an integer"),
        ({"DATABASE_URL": "mysql://u:p@db/app"}, "DATABASE_URL: must start with postgresql://"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL: must start with redis://"),
        ({"CORS_ORIGINS": "example.com"}, "must start with http:// or https://"),
        ({"ENVIRONMENT": "production", "DEBUG": "true"}, "DEBUG: must be false"),
        ({"ENVIRONMENT": "production", "SECRET_KEY": "short"}, "at least 50 characters"),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY_FALLBACKS": f"{'x' * 50},short"},
            "SECRET_KEY_FALLBACKS: every key must be at least 50",
        ),
        ({"METRICS_PORT": "70000"}, "METRICS_PORT: must be between 1 and 65535"),
        ({"API_TOKENS": " , "}, "API_TOKENS: at least one token is required"),
        (
            {"API_TOKENS": f"{'t' * 40},two words"},
            "API_TOKENS: token 2 of 2 has characters other than A-Z a-z 0-9 - . _ ~ + / (and = at its end)",
        ),
        (
            {"ENVIRONMENT": "production", "API_TOKENS": f"{'t' * 32},{'s' * 31}"},
            "API_TOKENS: token 2 of 2 is shorter than 32 characters, the minimum in staging and production",
        ),
        ({"DJANGO_ADMIN_ENABLED": "maybe"}, "DJANGO_ADMIN_ENABLED: expected true or false"),
        (
            {"FORWARDED_ALLOW_IPS": "10.0.0.0/8,ingress"},
            "FORWARDED_ALLOW_IPS: 'ingress' is not an IP address or network",
        ),
    ],
)
def test_invalid_settings_are_rejected(overrides: dict, message: str) -> None:
    proc = load(**overrides)
    assert proc.returncode != 0
    assert "invalid configuration" in proc.stderr
    assert message in proc.stderr
    assert SECRET not in proc.stderr
    assert "api-test-password" not in proc.stderr
    assert "t" * 32 not in proc.stderr


def test_sentry_only_with_a_dsn() -> None:
    code = (
        "import django; django.setup(); import sentry_sdk; c = sentry_sdk.get_client();"
        "print(c.is_active(), c.options.get('environment'), c.options.get('release'),"
        " (c.options.get('data_collection') or {}).get('user_info'))"
    )

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=APP_DIR,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    off = run(SENTRY_DSN="")
    assert off.returncode == 0, off.stderr
    assert off.stdout.split()[0] == "False"
    on = run(SENTRY_DSN="http://publickey@127.0.0.1:9/42")  # never contacted: no event is sent
    assert on.returncode == 0, on.stderr
    assert on.stdout.split() == ["True", "test", "notes-test@1.2.3", "False"]
