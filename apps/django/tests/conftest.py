from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client

from .helpers import APP_DIR
from .testenv import AUTH


@pytest.fixture
def client() -> Client:
    """pytest-django's test client, with the suite's bearer token."""
    return Client(headers=AUTH)


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture(scope="session")
def migrated() -> None:
    """The real database (not pytest-django's test copy) at the latest schema, through the
    deployment's own migration command, for tests that run the real server against it."""
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=APP_DIR, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stderr


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from .helpers import ANSWER_BOUND_SECONDS, FUZZ

    if FUZZ.cases:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(FUZZ.cases.items()))
        terminalreporter.write_line(
            f"schemathesis: {FUZZ.cases.total()} generated cases ({kinds}); slowest answer {FUZZ.slowest:.3f}s "
            f"(bound {ANSWER_BOUND_SECONDS}s; {FUZZ.sent_again} slower ones sent again)"
        )
