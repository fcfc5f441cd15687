"""Tests run against real PostgreSQL and Redis (scripts/test-apps starts them on loopback).

TEST_DATABASE_URL and TEST_REDIS_URL point at them; nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent

try:
    DATABASE_URL = os.environ["TEST_DATABASE_URL"]
    REDIS_URL = os.environ["TEST_REDIS_URL"]
except KeyError as missing:
    raise pytest.UsageError(f"{missing} is not set: run the suite through scripts/test-apps") from None

BASE_ENV = {
    "ENVIRONMENT": "test",
    "APP_NAME": "notes-test",
    "APP_VERSION": "1.2.3",
    "DEBUG": "false",
    "CORS_ORIGINS": "https://app.example.com",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-production-0123456789",
    "DB_POOL_SIZE": "2",
    "DB_MAX_OVERFLOW": "2",
}
# Settings read the process environment; make it exactly the test configuration.
for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "SENTRY_DSN", "PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop(key, None)
os.environ.update(BASE_ENV)


@pytest.fixture(scope="session")
def migrated() -> None:
    """Schema from a clean database, through the real `alembic upgrade head` entry point."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    for args in (["downgrade", "base"], ["upgrade", "head"]):
        subprocess.run([sys.executable, "-m", "alembic", *args], cwd=APP_DIR, env=env, check=True)


@pytest.fixture
def client(migrated: None) -> Iterator:
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    with TestClient(create_app(Settings())) as test_client:
        yield test_client
