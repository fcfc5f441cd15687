"""Migrations honour the Job's PGOPTIONS: blocked on a lock, they fail fast instead of queueing."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from .conftest import APP_DIR, DATABASE_URL


def alembic(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": DATABASE_URL, **env},
        timeout=120,
    )


def test_a_migration_blocked_on_a_lock_fails_fast(migrated: None) -> None:
    assert alembic("downgrade", "0001").returncode == 0
    try:
        # A long read transaction holds a lock on notes; the expand migration's ALTER TABLE needs an
        # exclusive one. Without lock_timeout it would wait for the transaction, and every query on
        # notes would queue behind it.
        with psycopg.connect(DATABASE_URL) as reader:
            reader.execute("SELECT count(*) FROM notes").fetchone()
            blocked = alembic("upgrade", "head", PGOPTIONS="-c lock_timeout=500 -c statement_timeout=60000")
            reader.rollback()
        assert blocked.returncode != 0
        # The migration's own error ends the log, which is the part a failed Job shows (not the
        # unlock's error on the aborted transaction).
        assert "canceling statement due to lock timeout" in "\n".join(blocked.stderr.splitlines()[-5:])
        assert "current transaction is aborted" not in blocked.stderr
        with psycopg.connect(DATABASE_URL) as conn:  # the failed step left nothing behind
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    finally:
        upgraded = alembic("upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
