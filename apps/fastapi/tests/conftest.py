"""Tests run against real PostgreSQL and Redis (scripts/test-apps starts them on loopback).

TEST_DATABASE_URL and TEST_REDIS_URL point at them; nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent

try:
    DATABASE_URL = os.environ["TEST_DATABASE_URL"]
    REDIS_URL = os.environ["TEST_REDIS_URL"]
except KeyError as missing:
    raise pytest.UsageError(f"{missing} is not set: run the suite through scripts/test-apps") from None

# The suite's own bearer token, in API_TOKENS with a second one, as during a rotation.
API_TOKEN = "test-api-token-0123456789abcdefghijklmnopqrstuvwxyz"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}

BASE_ENV = {
    "ENVIRONMENT": "test",
    "APP_NAME": "notes-test",
    "APP_VERSION": "1.2.3",
    "DEBUG": "false",
    "CORS_ORIGINS": "https://app.example.com",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-production-0123456789",
    "API_TOKENS": f"{API_TOKEN},test-next-api-token-9876543210zyxwvutsrqponmlkji",
    # An empty directory of the suite's own: every secret comes from the environment unless a
    # test puts its file there (tests/test_secrets.py).
    "SECRETS_DIR": tempfile.mkdtemp(prefix="secrets-"),
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

    with TestClient(create_app(Settings()), headers=AUTH) as test_client:
        yield test_client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from .helpers import ANSWER_BOUND_SECONDS, FUZZ

    if FUZZ.cases:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(FUZZ.cases.items()))
        terminalreporter.write_line(
            f"schemathesis: {FUZZ.cases.total()} generated cases ({kinds}); slowest answer {FUZZ.slowest:.3f}s "
            f"(bound {ANSWER_BOUND_SECONDS}s; {FUZZ.sent_again} slower ones sent again)"
        )
