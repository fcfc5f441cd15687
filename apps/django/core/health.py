"""Readiness: this process can serve, which means it can reach Postgres.

Only Postgres, which every notes endpoint needs. Redis is left out: a Redis outage must not take
every pod out of the Service at once (its state is exported as a metric by the gunicorn master,
core/dependencies.py). The check runs on one connection of its own per worker process, never one
from the request pool, so a busy pod with a saturated pool stays ready; it gives up after
READINESS_TIMEOUT_SECONDS. The answer names the failed dependency with a fixed word ("timeout" or
"unavailable"), never the exception text, which would show host and user names to anyone who can
reach the pod; the cause goes to the log.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import psycopg
from django.conf import settings

log = logging.getLogger(__name__)

# The readiness probe's timeoutSeconds must exceed this, or a slow answer is a failed probe even
# when the check itself passed.
READINESS_TIMEOUT_SECONDS = 1.0
# libpq's own limits (connect_timeout cannot go below 2 s) bound a check that outlives the answer:
# tcp_user_timeout (ms) ends a query on a connection whose peer vanished.
_CONNECT_OPTIONS = {"connect_timeout": 2, "tcp_user_timeout": 2000}


class DatabaseCheck:
    """``SELECT 1`` on a connection kept for this check alone, reopened after any failure. The
    check runs on one helper thread; probes that arrive while it runs wait for the same result."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")
        self._lock = threading.Lock()
        self._running: Future | None = None
        self._conn: psycopg.Connection | None = None  # used on the helper thread only
        self._failing = False

    def _select_one(self) -> None:
        try:
            if self._conn is None:
                self._conn = psycopg.connect(
                    settings.DATABASE_URL,
                    autocommit=True,
                    application_name=f"{settings.APP_NAME}-readiness",
                    **_CONNECT_OPTIONS,
                )
            self._conn.execute("SELECT 1")
        except Exception:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
            raise

    def run(self) -> str:
        """One of "ok", "timeout" or "unavailable"; the cause of a failure goes to the log only."""
        with self._lock:
            if self._running is None or self._running.done():
                self._running = self._executor.submit(self._select_one)
            running = self._running
        try:
            running.result(timeout=READINESS_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            result = "timeout" if isinstance(exc, FutureTimeout) else "unavailable"
            if not self._failing:
                log.warning("readiness: postgres %s: %s: %s", result, type(exc).__name__, str(exc).strip())
            self._failing = True
            return result
        if self._failing:
            log.info("readiness: postgres reachable again")
        self._failing = False
        return "ok"


_check = DatabaseCheck()


def readiness() -> tuple[int, dict]:
    """(status code, body)."""
    result = _check.run()
    if result == "ok":
        return 200, {"status": "ok", "checks": {"postgres": "ok"}}
    return 503, {"status": "unavailable", "failed": ["postgres"], "checks": {"postgres": result}}
