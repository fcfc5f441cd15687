"""Readiness checks for the dependencies: Postgres and Redis."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import redis
from django.conf import settings
from django.db import connections

# Must stay below the readiness probe's timeoutSeconds.
CHECK_TIMEOUT_SECONDS = 3.0


def reason(exc: BaseException) -> str:
    # Type and first line are enough to act on; never echo connection strings (they hold passwords).
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:300]


def check_postgres() -> None:
    # A fresh connection object per check: it runs in a helper thread, and Django connections are
    # per thread. With the pool it borrows a pooled connection and returns it on close().
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        conn.close()


def check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS = {"postgres": check_postgres, "redis": check_redis}
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")


def readiness() -> tuple[int, dict]:
    """(status code, body). Both checks run concurrently so the probe costs one timeout, not two."""
    futures = {name: _executor.submit(check) for name, check in CHECKS.items()}
    results: dict[str, str | None] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=CHECK_TIMEOUT_SECONDS + 1)
            results[name] = None
        except TimeoutError:
            results[name] = f"timed out after {CHECK_TIMEOUT_SECONDS:g}s"
        except Exception as exc:  # any failure means "not ready"; the reason says which
            results[name] = reason(exc)
    failed = sorted(name for name, error in results.items() if error)
    body: dict = {
        "status": "ok" if not failed else "unavailable",
        "checks": {name: (error or "ok") for name, error in results.items()},
    }
    if failed:
        body["failed"] = failed
        body["reason"] = "; ".join(f"{name}: {results[name]}" for name in failed)
    return (200 if not failed else 503), body
