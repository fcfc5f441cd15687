"""Health of the dependencies, for metrics and logs rather than for readiness.

/health/ready looks at Postgres only, and only from the process that answers (core/health.py).
Operators still need to see every dependency, Redis included: the gunicorn master checks each one
every DEPENDENCY_CHECK_INTERVAL_SECONDS on short-lived connections of its own, logs every change
of state, and exports on the metrics port

    dependency_up{dependency="postgres"|"redis"}                 1 when the last check passed
    dependency_check_duration_seconds{dependency=...}            how long the last check took

so an alert can fire on a dependency that is down without any pod leaving the Service.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

import psycopg
import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

DEPENDENCY_CHECK_INTERVAL_SECONDS = 15.0
CHECK_TIMEOUT_SECONDS = 3


class Log(Protocol):
    def info(self, msg: str, *args: object) -> None: ...
    def warning(self, msg: str, *args: object) -> None: ...


def postgres_check(url: str, app_name: str) -> Callable[[], None]:
    def check() -> None:
        # tcp_user_timeout (ms) bounds a query on a connection whose peer vanished mid-check.
        with psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CHECK_TIMEOUT_SECONDS,
            tcp_user_timeout=CHECK_TIMEOUT_SECONDS * 1000,
            application_name=f"{app_name}-dependency-check",
        ) as conn:
            conn.execute("SELECT 1")

    return check


def redis_check(url: str) -> Callable[[], None]:
    def check() -> None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()

    return check


class DependencyMonitor:
    """Runs CHECKS (name -> callable that raises when the dependency is unusable) and remembers the
    results; registered with a Prometheus registry it is the collector of the two gauges."""

    def __init__(self, checks: Mapping[str, Callable[[], None]], log: Log) -> None:
        self._checks = dict(checks)
        self._log = log
        self._results: dict[str, tuple[bool, float]] = {}
        # Held for the length of each check and across every fork of this process (see start()).
        self._fork_lock = threading.Lock()

    def check_all(self) -> None:
        for name, check in self._checks.items():
            start = time.perf_counter()
            try:
                with self._fork_lock:
                    check()
                up, cause = True, ""
            except Exception as exc:  # noqa: BLE001 - any failure means down; the log says why
                up, cause = False, f"{type(exc).__name__}: {str(exc).strip()}"
            previous = self._results.get(name)
            self._results[name] = (up, time.perf_counter() - start)
            if up and previous is not None and not previous[0]:
                self._log.info("dependency %s is up again", name)
            elif not up and (previous is None or previous[0]):
                self._log.warning("dependency %s is down: %s", name, cause)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "dependency_up", "1 when the last check of the dependency passed.", labels=["dependency"]
        )
        duration = GaugeMetricFamily(
            "dependency_check_duration_seconds", "Duration of the last check of the dependency.", labels=["dependency"]
        )
        for name, (ok, seconds) in sorted(self._results.items()):
            up.add_metric([name], 1.0 if ok else 0.0)
            duration.add_metric([name], seconds)
        yield up
        yield duration

    def start(self, interval: float = DEPENDENCY_CHECK_INTERVAL_SECONDS) -> None:
        """Checks every INTERVAL seconds from a thread of this process (the gunicorn master).

        The master forks workers while that thread runs: at start, and whenever a worker is
        recycled. A fork copies locks held by other threads (libpq's, the C library's name
        lookups) in their held state, so a worker forked mid-check can block forever on its first
        database connection: its pool never fills and every request it takes fails after the pool
        timeout. Forks therefore wait for the running check to end (CHECK_TIMEOUT_SECONDS at most
        per dependency), and no check starts while a fork is under way.
        """
        os.register_at_fork(
            before=self._fork_lock.acquire,
            after_in_parent=self._fork_lock.release,
            after_in_child=self._fork_lock.release,
        )

        def loop() -> None:
            while True:
                self.check_all()
                time.sleep(interval)

        threading.Thread(target=loop, name="dependency-checks", daemon=True).start()
