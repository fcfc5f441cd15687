"""Test environment: real PostgreSQL and Redis, started on loopback by scripts/test-apps.

Settings are read from the environment when Django loads them, so this plugin (loaded with -p, before
pytest-django sets Django up) turns TEST_DATABASE_URL / TEST_REDIS_URL into the app's variables.
"""

from __future__ import annotations

import os
import tempfile

try:
    TEST_DATABASE_URL = os.environ["TEST_DATABASE_URL"]
    TEST_REDIS_URL = os.environ["TEST_REDIS_URL"]
except KeyError as missing:
    raise SystemExit(f"{missing} is not set: run the suite through scripts/test-apps") from None

# The suite's own bearer token, in API_TOKENS with a second one, as during a rotation.
API_TOKEN = "django-test-api-token-0123456789abcdefghijklmnopqrstuvwxyz"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}

BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "ENVIRONMENT": "test",
    "APP_NAME": "notes-test",
    "APP_VERSION": "1.2.3",
    "DEBUG": "false",
    "CORS_ORIGINS": "https://app.example.com",
    "DATABASE_URL": TEST_DATABASE_URL,
    "REDIS_URL": TEST_REDIS_URL,
    "SECRET_KEY": "django-test-secret-key-0123456789-0123456789-0123456789",
    "API_TOKENS": f"{API_TOKEN},django-test-next-api-token-9876543210zyxwvutsrqponmlk",
    # An empty directory of the suite's own: every secret comes from the environment unless a
    # test puts its file there (tests/test_secrets.py).
    "SECRETS_DIR": tempfile.mkdtemp(prefix="secrets-"),
    "DB_POOL_SIZE": "2",
    "DB_MAX_OVERFLOW": "2",
}
for key in (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "SENTRY_DSN",
    "PROMETHEUS_MULTIPROC_DIR",
    "ALLOWED_HOSTS",
    "SECRET_KEY_FALLBACKS",
    "METRICS_PORT",
    "FORWARDED_ALLOW_IPS",
    "DJANGO_ADMIN_ENABLED",
):
    os.environ.pop(key, None)
os.environ.update(BASE_ENV)
