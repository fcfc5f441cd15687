"""Health of the Celery worker, for two Kubernetes exec probes that mean different things:

    python -m app.worker_readiness   connected to the broker and consuming its queues, now
    python -m app.worker_liveness    making progress, or waiting for a broker that does not answer

The worker (app.celery) writes two files in the temp directory (/tmp, an emptyDir in the pod;
TMPDIR elsewhere), which the probes read, since they run in the same container:

- the heartbeat, touched when the worker starts and then every HEARTBEAT_INTERVAL_SECONDS by a
  timer on the consumer's event loop while it is connected: its age is how long the worker has
  made no progress (a hung loop, or no connection to the broker);
- the consuming mark, which exists while the consumer is connected and consuming: created when its
  step starts after the one that consumes the queues, removed when the connection drops or the
  worker stops, and at the worker's start (a mark left by a killed container must not count).

Readiness: the mark exists and the heartbeat is at most READY_MAX_AGE_SECONDS old. It fails as soon
as the broker connection drops and passes again once the consumer is back.

Liveness: the heartbeat is at most ALIVE_MAX_AGE_SECONDS old, or else the broker does not answer a
PING within BROKER_PING_TIMEOUT_SECONDS. A worker waiting for a broker that is down does what it
should, and restarting it would not bring the broker back; one whose loop hangs, or that has not
reconnected to a broker that answers again, fails. Only that last check reads the settings
(REDIS_URL, from SECRETS_DIR or the environment like the worker's); a probe that finds a fresh
heartbeat imports the standard library only.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HEARTBEAT_INTERVAL_SECONDS = 10
# Three missed heartbeats: a busy moment does not fail readiness, a stopped consumer does.
READY_MAX_AGE_SECONDS = 30
# Six missed heartbeats before the broker is asked whether the worker had a reason to stop.
ALIVE_MAX_AGE_SECONDS = 60
BROKER_PING_TIMEOUT_SECONDS = 3


def heartbeat_file() -> Path:
    return Path(tempfile.gettempdir()) / "celery-worker-heartbeat"


def consuming_file() -> Path:
    return Path(tempfile.gettempdir()) / "celery-worker-consuming"


def heartbeat_age(now: float) -> float | None:
    """Seconds since the last heartbeat, or None when the worker has not started."""
    try:
        return now - heartbeat_file().stat().st_mtime
    except FileNotFoundError:
        return None


def readiness_problem(now: float) -> str | None:
    """Why the worker is not ready at time NOW, or None when it is."""
    if not consuming_file().exists():
        return "the worker is not connected to the broker and consuming"
    age = heartbeat_age(now)
    if age is None or age > READY_MAX_AGE_SECONDS:
        return f"no heartbeat for more than {READY_MAX_AGE_SECONDS}s: the worker's consumer has stopped"
    return None


def broker_answers() -> bool:
    import redis

    from app.config import get_settings

    url = get_settings().redis_url.get_secret_value()
    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_PING_TIMEOUT_SECONDS, socket_timeout=BROKER_PING_TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def liveness_problem(now: float, broker_up: Callable[[], bool] = broker_answers) -> str | None:
    """Why the worker is not alive at time NOW, or None when it is."""
    age = heartbeat_age(now)
    if age is not None and age <= ALIVE_MAX_AGE_SECONDS:
        return None
    if not broker_up():
        return None  # waiting for the broker: a restart would not help
    if age is None:
        # The startup probe's answer until the worker's first heartbeat, however slow its start.
        return "no heartbeat yet while the broker answers: the worker has not started"
    return f"no heartbeat for {age:.0f}s (limit {ALIVE_MAX_AGE_SECONDS}s) while the broker answers: the worker is stuck"


def probe(problem: Callable[[float], str | None], failure: str) -> int:
    """The exit status of an exec probe: 0, or 1 with the reason on stderr."""
    reason = problem(time.time())
    if reason:
        sys.stderr.write(f"worker {failure}: {reason}\n")
        return 1
    return 0
