"""Both apps against the real PostgreSQL and Redis that scripts/test-apps starts on loopback, each
from its own virtualenv (scripts/test-apps syncs them first; APPS_VENV names them, default .venv)."""

from __future__ import annotations

import os

import pytest

from .apps import App

try:
    DATABASE_URLS = {app: os.environ[f"TEST_DATABASE_URL_{app.upper()}"] for app in ("fastapi", "django")}
    REDIS_URL = os.environ["TEST_REDIS_URL"]
except KeyError as missing:
    raise pytest.UsageError(f"{missing} is not set: run the suite through scripts/test-apps") from None

APPS = (
    App(
        name="fastapi",
        database_url=DATABASE_URLS["fastapi"],
        redis_url=REDIS_URL,
        migrate=("-m", "alembic", "upgrade", "head"),
        settings_loader="from app.config import load_settings; settings = load_settings()",
    ),
    App(
        name="django",
        database_url=DATABASE_URLS["django"],
        redis_url=REDIS_URL,
        migrate=("manage.py", "migrate", "--noinput"),
        # manage.py's own check: a configuration problem is reported as such, exit 1.
        settings_loader=(
            "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.production')\n"
            "from django.conf import settings\nfrom django.core.exceptions import ImproperlyConfigured\n"
            "try:\n    settings.INSTALLED_APPS\nexcept ImproperlyConfigured as exc:\n    sys.exit(f'{exc}')"
        ),
    ),
)


@pytest.fixture(scope="session")
def apps() -> tuple[App, ...]:
    return APPS
