"""How many CPUs this container may use: the basis for gunicorn and Celery process counts.

os.cpu_count() reports the node's cores: a pod limited to 1 CPU on a 64-core node would start 64
processes, each with its own memory and database pool, and then be throttled. The CFS quota is
the real limit; without one, the cpuset this process may run on.
"""

from __future__ import annotations

import math
import os
from pathlib import Path


def cpu_limit(cgroup_root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs allowed by the CFS quota, or None when there is no quota."""
    root = Path(cgroup_root)
    try:  # cgroup v2: "<quota> <period>" or "max <period>"
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    for v1 in (root / "cpu", root / "cpu,cpuacct", root):  # cgroup v1, depending on how it is mounted
        try:
            quota_us = int((v1 / "cpu.cfs_quota_us").read_text())
            period_us = int((v1 / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us
    return None


def available_cpus(cgroup_root: str = "/sys/fs/cgroup") -> int:
    """The quota rounded up, else the size of this process's cpuset; at least 1."""
    limit = cpu_limit(cgroup_root)
    return max(1, math.ceil(limit) if limit else len(os.sched_getaffinity(0)))


def concurrency_from_env(name: str, default: int) -> int:
    """A positive integer from env var NAME, or DEFAULT when unset; anything else stops start-up."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)
