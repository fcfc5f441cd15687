"""Gunicorn settings for the FastAPI service (uvicorn workers). Every value can be overridden by env."""

from __future__ import annotations

import os
import shutil
import sys

# Gunicorn reads this file before it changes into the app directory and puts that on sys.path;
# make the `app` package importable from here regardless of how gunicorn was started.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from app.cpu import available_cpus, concurrency_from_env  # noqa: E402

wsgi_app = "app.main:create_app()"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "uvicorn_worker.UvicornWorker"


def default_workers(cgroup_root: str = "/sys/fs/cgroup") -> int:
    """One async worker per CPU of quota (see app/cpu.py), at least 2 so a recycled worker never
    drops the pod to zero capacity."""
    return max(2, available_cpus(cgroup_root))


workers = concurrency_from_env("WEB_CONCURRENCY", default_workers())

# Recycle workers now and then so slow leaks in any dependency cannot grow without bound; the
# jitter keeps all workers from restarting at the same moment.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# A worker that stops heartbeating for this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, workers stop accepting and get this long to finish in-flight requests, then the
# master kills them. The kubelet's budget is terminationGracePeriodSeconds (30s by default) minus
# the preStop pause (5s by default) that runs before SIGTERM; 20s leaves a margin inside the
# remaining 25s so gunicorn, not a SIGKILL, ends the workers. Raise both together.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Idle keep-alive longer than the ingress proxy's upstream idle timeout (ingress-nginx: 60s), so
# the proxy closes idle connections first; the other way round it may reuse a connection gunicorn
# has just closed and answer 502.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))

# Heartbeat files in RAM: a disk-backed /tmp can stall on I/O and get healthy workers killed.
worker_tmp_dir = "/dev/shm"

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Remote address, request line, status, size, duration in microseconds, user agent.
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'
# Behind the ingress the client address is in X-Forwarded-For; trust it from any proxy in-cluster.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn hook signature
    # Fail fast in the master, with the readable message, before any worker forks.
    from app.config import load_settings

    load_settings()
    # Metrics from all workers are aggregated through files in this directory (see app/metrics.py).
    # Stale files from a previous run would add old counts, so start empty.
    prom_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if prom_dir:
        shutil.rmtree(prom_dir, ignore_errors=True)
        os.makedirs(prom_dir, exist_ok=True)


def child_exit(server, worker) -> None:  # noqa: ANN001
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
