"""Gunicorn settings for the Django service (threaded sync workers). Every value can be overridden by env."""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads let one process overlap requests that wait on Postgres or Redis, at a fraction of the
# memory of extra processes; Django's connection pool is shared by a process's threads.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))


def cpu_limit(cgroup_root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs this container may use according to its CFS quota, or None when it has no quota.

    os.cpu_count() reports the node's cores: a pod limited to 1 CPU on a 64-core node would start
    dozens of workers, each with its own memory and connection pool, and get throttled.
    """
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


def default_workers(cgroup_root: str = "/sys/fs/cgroup") -> int:
    """Two processes per CPU of quota (rounded up), at least 2 so a recycled worker never drops the
    pod to zero capacity. Without a quota, the CPUs this process may run on (its cpuset)."""
    limit = cpu_limit(cgroup_root)
    cpus = math.ceil(limit) if limit else len(os.sched_getaffinity(0))
    return max(2, 2 * cpus)


def workers_from_env(default: int) -> int:
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"WEB_CONCURRENCY must be a positive integer, got {raw!r}")
    return int(raw)


workers = workers_from_env(default_workers())

# Recycle workers now and then so slow leaks cannot grow without bound; jitter staggers restarts.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, workers stop accepting and get this long to finish in-flight requests, then the
# master kills them. The kubelet's budget is terminationGracePeriodSeconds (30s by default) minus
# the preStop pause (5s by default) that runs before SIGTERM; 20s leaves a margin inside the
# remaining 25s so gunicorn, not a SIGKILL, ends the workers. Raise both together.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Idle keep-alive longer than the ingress proxy's upstream idle timeout (ingress-nginx: 60s,
# Traefik: 90s), so the proxy closes idle connections first; the other way round it may send a
# request on a connection gunicorn has just closed and answer 502.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "95"))
# No runtime control socket (gunicornc): Kubernetes manages the process, and the default path is
# under $HOME, which the read-only image does not have and which masters on one host would share.
control_socket_disable = True

# Heartbeat files in RAM: a disk-backed /tmp can stall on I/O and get healthy workers killed.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - this container's own RAM disk

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client address (from a trusted proxy's X-Forwarded-For, see core.middleware.TrustedProxyMiddleware),
# request line, status, size, duration in microseconds, user agent.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'


def trusted_proxies(raw: str) -> str:
    """FORWARDED_ALLOW_IPS: the peers (IPs or CIDR networks, comma-separated) whose X-Forwarded-Proto
    sets the request's scheme; from anyone else it is ignored, so a client inside the cluster cannot
    claim HTTPS. `*` trusts every peer. Django reads the same variable for X-Forwarded-For."""
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry)
        except ValueError:
            raise SystemExit(
                f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8); "
                "expected a comma-separated list of them, or *"
            ) from None
    return ",".join(entries)


# Only the loopback by default: the platform names its ingress controller's addresses.
forwarded_allow_ips = trusted_proxies(os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))


def on_starting(server) -> None:
    # Fail fast in the master with the readable configuration message, before any worker forks.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        metrics_port = settings.METRICS_PORT
    except ImproperlyConfigured as exc:
        raise SystemExit(f"{exc}") from None
    from core.redaction import RedactShareTokens

    # The workers inherit the filter: share links reach the access log as /notes/shared/[redacted].
    logging.getLogger("gunicorn.access").addFilter(RedactShareTokens())
    if any(addr.endswith(f":{metrics_port}") for addr in server.cfg.bind):
        raise SystemExit(f"METRICS_PORT: {metrics_port} is the app's port too (GUNICORN_BIND); choose another")
    # Every worker writes its samples to files here and the master aggregates them (core/metrics.py).
    # The image sets it; anywhere else this master gets a directory of its own. Set before the
    # workers fork, so they inherit it. Stale files from a previous run would add old counts.
    prom_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = prom_dir
    shutil.rmtree(prom_dir, ignore_errors=True)
    os.makedirs(prom_dir, exist_ok=True)


def when_ready(server) -> None:
    # The master serves /metrics on its own port and checks the dependencies for it, once per pod.
    from django.conf import settings

    from core import metrics
    from core.dependencies import DependencyMonitor, postgres_check, redis_check

    monitor = DependencyMonitor(
        {
            "postgres": postgres_check(settings.DATABASE_URL, settings.APP_NAME),
            "redis": redis_check(settings.REDIS_URL),
        },
        log=server.log,
    )
    try:
        metrics.serve(settings.METRICS_PORT, [monitor])
    except OSError as exc:
        raise SystemExit(f"METRICS_PORT: cannot listen on {settings.METRICS_PORT}: {exc.strerror}") from None
    monitor.start()
    server.log.info("metrics on port %s", settings.METRICS_PORT)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
