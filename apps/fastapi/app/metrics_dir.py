"""The directory prometheus_client's multiprocess mode shares between a process and its children.

The gunicorn master (for its web workers) and the Celery worker (for its prefork pool) serve
/metrics from their own process while the children count: each child writes its samples to files
in PROMETHEUS_MULTIPROC_DIR and the parent aggregates them. Standard library only, since the
directory must be set before prometheus_client is imported: the import chooses the mode.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def fresh_multiprocess_dir() -> str:
    """Empties PROMETHEUS_MULTIPROC_DIR (stale files from an earlier run of this container would add
    old counts), or, where it is not set (the images set it), makes one for this process and its
    children, which inherit it. Call it before any child is started."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    return directory
