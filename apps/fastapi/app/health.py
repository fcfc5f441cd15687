"""Liveness and readiness.

/health/live says only that the process serves HTTP: Kubernetes restarts the pod when it fails, so
it must not depend on Postgres or Redis (an outage there would otherwise restart every pod).

/health/ready says that this process can serve: it can reach Postgres, which every notes endpoint
needs. It checks nothing else: Redis only carries fire-and-forget tasks (a note is saved without
it), so a Redis outage must not take pods out of the Service. The check uses one connection of its
own per worker process, never one from the request pool, so a busy pod with a saturated pool stays
ready, and it gives up after READINESS_TIMEOUT_SECONDS. The state of every dependency, Redis
included, is exported as metrics by the gunicorn master (app/dependencies.py).

The response names the failed dependency with a fixed word ("timeout" or "unavailable"), never the
exception text: that would show host and user names to anyone who can reach the pod.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)
router = APIRouter(prefix="/health", tags=["health"])

# The readiness probe's timeoutSeconds must exceed this, or a slow answer is a failed probe even
# when the check itself passed.
READINESS_TIMEOUT_SECONDS = 1.0


class DatabaseCheck:
    """``SELECT 1`` on a connection kept for this check alone, reopened after any failure."""

    def __init__(self, url: str, application_name: str) -> None:
        self._url = url
        self._application_name = application_name
        self._conn: psycopg.AsyncConnection | None = None
        # Concurrent probes share the connection one after the other; waiting counts toward the timeout.
        self._lock = asyncio.Lock()
        self._failing = False

    async def _select_one(self) -> None:
        async with self._lock:
            try:
                if self._conn is None:
                    self._conn = await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True, application_name=self._application_name
                    )
                await self._conn.execute("SELECT 1")
            except BaseException:  # a failure or the timeout's cancellation: the connection is suspect
                await self.close()
                raise

    async def run(self) -> str:
        """One of "ok", "timeout" or "unavailable"; the cause of a failure goes to the log only."""
        try:
            await asyncio.wait_for(self._select_one(), READINESS_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            result = "timeout" if isinstance(exc, TimeoutError) else "unavailable"
            if not self._failing:
                log.warning("readiness: postgres %s: %s: %s", result, type(exc).__name__, str(exc).strip())
            self._failing = True
            return result
        if self._failing:
            log.info("readiness: postgres reachable again")
        self._failing = False
        return "ok"

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    result = await request.app.state.database_check.run()
    if result == "ok":
        return JSONResponse({"status": "ok", "checks": {"postgres": "ok"}})
    return JSONResponse(
        {"status": "unavailable", "failed": ["postgres"], "checks": {"postgres": result}}, status_code=503
    )
