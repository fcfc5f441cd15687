"""Metrics of the Celery worker, served by its main process on METRICS_PORT like the web app's:

    celery_tasks_total{task, state}   tasks this worker finished, by task name and final state
                                      (success, failure, retry...)
    celery_queue_length{queue}        messages waiting in each queue the worker consumes, read from
                                      the broker every QUEUE_READ_INTERVAL_SECONDS while connected

so an alert can tell a worker that finishes nothing while tasks wait (docs/traffic.md). The prefork
pool runs tasks in child processes: each counts in files under PROMETHEUS_MULTIPROC_DIR, which the
main process aggregates, as the gunicorn master does for the web workers (app/metrics.py). Import
this module only once that directory is set (app.celery does, when the worker starts): importing
prometheus_client chooses its mode.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from kombu import Connection
from kombu.exceptions import OperationalError
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

log = logging.getLogger(__name__)

QUEUE_READ_INTERVAL_SECONDS = 15.0
# One attempt per read: a broker that does not answer leaves the lengths unknown until the next.
BROKER_CONNECT_RETRIES = 1

TASKS = Counter("celery_tasks_total", "Tasks this worker finished, by task name and final state.", ["task", "state"])


class QueueLengths:
    """The collector of celery_queue_length: the lengths of the last read, none while they are unknown."""

    def __init__(self) -> None:
        self._lengths: dict[str, int] = {}

    def read(self, connection: Connection, queues: Iterable[str]) -> None:
        """Reads the length of each queue on a connection of its own to the broker. A queue the broker
        does not know holds nothing (Redis drops an empty list)."""
        lengths = {}
        try:
            with connection.clone() as conn:
                conn.ensure_connection(max_retries=BROKER_CONNECT_RETRIES)
                for queue in queues:
                    with conn.channel() as channel:
                        try:
                            lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                        except connection.channel_errors:
                            lengths[queue] = 0
        # A connection that cannot be made raises OperationalError; one lost midway, the transport's own.
        except (OperationalError, *connection.connection_errors) as exc:
            log.warning("could not read the queue lengths from the broker: %s", exc)
            self.forget()
            return
        self._lengths = lengths

    def forget(self) -> None:
        """The lengths are unknown (the worker lost the broker): export none rather than old ones."""
        self._lengths = {}

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "celery_queue_length", "Messages waiting in the queue, as the broker last said.", labels=["queue"]
        )
        for queue, length in sorted(self._lengths.items()):
            gauge.add_metric([queue], float(length))
        yield gauge


QUEUES = QueueLengths()


def task_finished(task_name: str, state: str | None) -> None:
    TASKS.labels(task_name, (state or "unknown").lower()).inc()
