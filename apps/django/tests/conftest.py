from __future__ import annotations

import subprocess
import sys

import pytest

from .helpers import APP_DIR


@pytest.fixture(scope="session")
def migrated() -> None:
    """The real database (not pytest-django's test copy) at the latest schema, through the
    deployment's own migration command, for tests that run the real server against it."""
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=APP_DIR, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stderr
