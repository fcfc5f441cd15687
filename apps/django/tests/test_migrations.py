"""Migrations honour the Job's PGOPTIONS: blocked on a lock, they fail fast instead of queueing."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from .helpers import APP_DIR
from .testenv import TEST_DATABASE_URL


def migrate(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", *args],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def applied(name: str) -> bool:
    with psycopg.connect(TEST_DATABASE_URL) as conn:
        row = conn.execute("SELECT 1 FROM django_migrations WHERE app = 'notes' AND name = %s", (name,)).fetchone()
    return row is not None


def test_a_migration_blocked_on_a_lock_fails_fast(migrated: None) -> None:
    assert migrate("notes", "0001").returncode == 0
    try:
        # A long read transaction holds a lock on notes; the expand migration's ALTER TABLE needs an
        # exclusive one. Without lock_timeout it would wait for the transaction, and every query on
        # notes would queue behind it.
        with psycopg.connect(TEST_DATABASE_URL) as reader:
            reader.execute("SELECT count(*) FROM notes").fetchone()
            blocked = migrate(PGOPTIONS="-c lock_timeout=500 -c statement_timeout=60000")
            reader.rollback()
        assert blocked.returncode != 0
        assert "canceling statement due to lock timeout" in blocked.stderr
        assert not applied("0002_note_pinned")  # the failed step left nothing behind
    finally:
        upgraded = migrate()
    assert upgraded.returncode == 0, upgraded.stderr
    assert applied("0002_note_pinned")
