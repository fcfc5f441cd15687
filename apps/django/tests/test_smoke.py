"""The release's smoke test, `python manage.py smoke BASE_URL`: the notes flow against the real
server, and what it reports and leaves behind when the flow breaks."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import psycopg

from .helpers import APP_DIR, free_port, gunicorn, request
from .testenv import TEST_DATABASE_URL


def smoke(base_url: str, **env: str) -> subprocess.CompletedProcess:
    """The command the release analysis's Job runs, with the suite's settings (API_TOKENS among them)."""
    return subprocess.run(
        [sys.executable, "manage.py", "smoke", base_url],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def smoke_notes() -> int:
    with psycopg.connect(TEST_DATABASE_URL) as conn:
        return conn.execute("SELECT count(*) FROM notes WHERE title LIKE 'smoke test %'").fetchone()[0]


def test_the_flow_passes_against_the_real_server_and_leaves_no_note(migrated: None) -> None:
    before = smoke_notes()
    with gunicorn() as server:
        result = smoke(server.base)
        assert result.returncode == 0, result.stderr
        steps = re.findall(r"^smoke: (.+): (\d{3})$", result.stdout, re.M)
        assert [status for _, status in steps] == ["401", "201", "200", "204", "404"], result.stdout
        note = re.search(r"DELETE (/notes/\d+)", result.stdout).group(1)
        assert request(f"{server.base}{note}")[0] == 404
    assert smoke_notes() == before


def test_a_token_the_release_refuses_fails_the_flow_and_creates_nothing(migrated: None) -> None:
    before = smoke_notes()
    with gunicorn() as server:
        result = smoke(server.base, API_TOKENS="a-token-this-server-does-not-know-0123456789")
    assert result.returncode == 1
    assert "POST /notes: expected 201, got 401" in result.stderr
    assert smoke_notes() == before


def test_a_release_that_does_not_answer_fails_the_flow() -> None:
    result = smoke(f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "GET /notes?limit=1: no answer" in result.stderr


def test_only_an_http_url_is_a_base_url() -> None:
    result = smoke("notes.example.com")
    assert result.returncode == 1
    assert "BASE_URL must be an http:// or https:// URL" in result.stderr
