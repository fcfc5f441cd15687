"""Gunicorn settings for the FastAPI service (uvicorn workers). Every value can be overridden by env."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys

# Gunicorn reads this file before it changes into the app directory and puts that on sys.path;
# make the `app` package importable from here regardless of how gunicorn was started.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from app.cpu import available_cpus, concurrency_from_env

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
# Idle keep-alive longer than the ingress proxy's upstream idle timeout (ingress-nginx: 60s,
# Traefik: 90s), so the proxy closes idle connections first; the other way round it may send a
# request on a connection gunicorn has just closed and answer 502.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "95"))

# No runtime control socket (gunicornc): Kubernetes manages the process, and the default path is
# under $HOME, which the read-only image does not have and which masters on one host would share.
control_socket_disable = True

# Heartbeat files in RAM: a disk-backed /tmp can stall on I/O and get healthy workers killed.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - this container's own RAM disk

# Uvicorn writes the access log (client address, request line, status) through gunicorn's handlers.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def trusted_proxies(raw: str) -> str:
    """FORWARDED_ALLOW_IPS: the peers (IPs or CIDR networks, comma-separated) whose X-Forwarded-For
    and X-Forwarded-Proto are believed; from anyone else they are ignored, so a client inside the
    cluster cannot claim another address or HTTPS. `*` trusts every peer."""
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
    # Fail fast in the master, with the readable message, before any worker forks.
    from app.config import load_settings
    from app.metrics_dir import fresh_multiprocess_dir
    from app.redaction import RedactShareTokens

    settings = load_settings()
    # The workers inherit the filter: share links reach the access log as /notes/shared/[redacted].
    logging.getLogger("uvicorn.access").addFilter(RedactShareTokens())
    if any(addr.endswith(f":{settings.metrics_port}") for addr in server.cfg.bind):
        raise SystemExit(f"METRICS_PORT: {settings.metrics_port} is the app's port too (GUNICORN_BIND); choose another")
    # Every worker writes its samples to files there and the master aggregates them (app/metrics.py).
    fresh_multiprocess_dir()


def when_ready(server) -> None:
    # The master serves /metrics on its own port and checks the dependencies for it, once per pod.
    from app import metrics
    from app.config import get_settings
    from app.dependencies import DependencyMonitor, postgres_check, redis_check

    settings = get_settings()
    monitor = DependencyMonitor({"postgres": postgres_check(settings), "redis": redis_check(settings)}, log=server.log)
    try:
        metrics.serve(settings.metrics_port, [monitor])
    except OSError as exc:
        raise SystemExit(f"METRICS_PORT: cannot listen on {settings.metrics_port}: {exc.strerror}") from None
    monitor.start()
    server.log.info("metrics on port %s", settings.metrics_port)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
