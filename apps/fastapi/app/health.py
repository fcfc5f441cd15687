"""Liveness and readiness.

/health/live says only that the process serves HTTP: Kubernetes restarts the pod when it fails, so
it must not depend on Postgres or Redis (an outage there would otherwise restart every pod).
/health/ready checks both dependencies: Kubernetes stops routing traffic to the pod while it fails.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(prefix="/health", tags=["health"])

# Must stay below the readiness probe's timeoutSeconds.
CHECK_TIMEOUT_SECONDS = 3.0


def _reason(exc: BaseException) -> str:
    # The exception type and first line are enough to act on; never echo URLs (they hold passwords).
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:300]


async def _check_postgres(request: Request) -> None:
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_redis(request: Request) -> None:
    await request.app.state.redis.ping()


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    checks = {"postgres": _check_postgres, "redis": _check_redis}

    async def run(name: str) -> tuple[str, str | None]:
        try:
            await asyncio.wait_for(checks[name](request), CHECK_TIMEOUT_SECONDS)
            return name, None
        except TimeoutError:
            return name, f"timed out after {CHECK_TIMEOUT_SECONDS:g}s"
        except Exception as exc:  # any failure means "not ready"; the reason says which
            return name, _reason(exc)

    results = dict(await asyncio.gather(*(run(name) for name in checks)))
    failed = sorted(name for name, error in results.items() if error)
    body = {
        "status": "ok" if not failed else "unavailable",
        "checks": {name: (error or "ok") for name, error in results.items()},
    }
    if failed:
        body["failed"] = failed
        body["reason"] = "; ".join(f"{name}: {results[name]}" for name in failed)
    return JSONResponse(body, status_code=200 if not failed else 503)
