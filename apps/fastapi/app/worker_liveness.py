"""Liveness of the Celery worker, for a Kubernetes exec probe:

    python -m app.worker_liveness

The worker touches a heartbeat file every HEARTBEAT_INTERVAL_SECONDS while its consumer is connected
to the broker, and removes it when the connection drops (app.celery.Heartbeat). The touches run on
the consumer's event loop, so a loop that hangs stops them too. The probe exits 0 while the file is
fresher than MAX_AGE_SECONDS, 1 otherwise, with the reason on stderr. It imports only the standard
library, so running it every few seconds costs next to nothing.

The file lives in the temp directory (/tmp, an emptyDir in the pod; TMPDIR elsewhere), which the
worker and the probe share because they run in the same container.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HEARTBEAT_INTERVAL_SECONDS = 10
# Six missed heartbeats: a short broker restart or a busy moment does not fail the probe, a worker
# that has lost the broker or whose loop is stuck does within a minute (plus the probe's threshold).
MAX_AGE_SECONDS = 60


def heartbeat_file() -> Path:
    return Path(tempfile.gettempdir()) / "celery-worker-heartbeat"


def problem(path: Path, now: float, max_age: float = MAX_AGE_SECONDS) -> str | None:
    """Why the worker is not alive according to PATH at time NOW, or None when it is."""
    try:
        age = now - path.stat().st_mtime
    except FileNotFoundError:
        return f"{path} does not exist: the worker is not connected to the broker"
    if age > max_age:
        return f"{path} is {age:.0f}s old (limit {max_age}s): the worker's consumer has stopped"
    return None


def main() -> int:
    reason = problem(heartbeat_file(), time.time())
    if reason:
        sys.stderr.write(f"worker not alive: {reason}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
