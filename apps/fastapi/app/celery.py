"""Celery application and tasks. Worker: ``celery -A app.celery worker -l info``."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from celery import Celery, bootsteps, signals
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import worker_health
from app.config import get_settings
from app.cpu import available_cpus, concurrency_from_env
from app.db import Note, make_sync_engine
from app.metrics_dir import fresh_multiprocess_dir

log = logging.getLogger(__name__)
WORD = re.compile(r"\w+")


def make_celery() -> Celery:
    settings = get_settings()
    url = settings.redis_url.get_secret_value()
    celery = Celery(settings.app_name, broker=url, backend=url)
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_expires=3600,
        # Acknowledge after the task ran, so a worker killed mid-task (deploy, OOM) does not lose it;
        # tasks must therefore be idempotent (count_words is).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A hung task must not occupy a worker slot forever, nor hold up a warm shutdown for longer
        # than the pod's terminationGracePeriodSeconds (which must exceed the hard limit).
        task_time_limit=settings.celery_task_time_limit,
        task_soft_time_limit=settings.celery_task_soft_time_limit,
        broker_connection_retry_on_startup=True,
        # A task is redelivered when unacknowledged for this long: longer than the hard limit, so a
        # task that is still running is never handed to a second worker (config.py checks it).
        broker_transport_options={
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
            "visibility_timeout": settings.celery_visibility_timeout,
        },
        # After losing the broker, acks_late tasks will be redelivered: stop the running copies
        # rather than let them finish twice (Celery 6's default).
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        # Celery's default is the node's core count; size the prefork pool from the container's CPU
        # quota instead (CELERY_CONCURRENCY or `--concurrency` override it).
        worker_concurrency=concurrency_from_env("CELERY_CONCURRENCY", available_cpus()),
    )
    return celery


class Consuming(bootsteps.StartStopStep):
    """Writes what the worker's probes read (app/worker_health.py) while the consumer is connected.

    A consumer step starts once the broker connection is up and the queues are consumed (it
    requires the Tasks step), and is stopped when the connection drops (the consumer then
    reconnects and starts its steps again): the consuming mark exists only in between, and the
    heartbeat's timer runs on the consumer's event loop, so a hung loop stops it too.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry = None

    def start(self, consumer) -> None:
        heartbeat = worker_health.heartbeat_file()
        heartbeat.touch()
        worker_health.consuming_file().touch()
        self.timer_entry = consumer.timer.call_repeatedly(worker_health.HEARTBEAT_INTERVAL_SECONDS, heartbeat.touch)

    def stop(self, consumer) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        worker_health.consuming_file().unlink(missing_ok=True)

    shutdown = stop


class MeasuringQueues(bootsteps.StartStopStep):
    """Reads the lengths of the queues the worker consumes (app/worker_metrics.py) while the consumer
    is connected, on the consumer's own timer: the reads never run while the pool forks a child."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry = None

    def start(self, consumer) -> None:
        from app.worker_metrics import QUEUE_READ_INTERVAL_SECONDS, QUEUES

        queues = [queue.name for queue in consumer.task_consumer.queues]
        QUEUES.read(consumer.connection, queues)
        self.timer_entry = consumer.timer.call_repeatedly(
            QUEUE_READ_INTERVAL_SECONDS, QUEUES.read, (consumer.connection, queues)
        )

    def stop(self, consumer) -> None:
        from app.worker_metrics import QUEUES

        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        QUEUES.forget()

    shutdown = stop


@signals.worker_init.connect
def _worker_starting(**_kwargs) -> None:
    # Progress starts now (liveness gives the first connection the same time as any other), and a
    # mark left behind by a killed worker in this pod's /tmp must not make this one ready.
    worker_health.heartbeat_file().touch()
    worker_health.consuming_file().unlink(missing_ok=True)
    # Before the pool forks, which inherits the directory, and before prometheus_client is imported.
    fresh_multiprocess_dir()
    from app import metrics
    from app.worker_metrics import QUEUES

    port = get_settings().metrics_port
    try:
        metrics.serve(port, [QUEUES])
    except OSError as exc:
        raise SystemExit(f"METRICS_PORT: cannot listen on {port}: {exc.strerror}") from None
    log.info("metrics on port %s", port)


@signals.task_postrun.connect
def _task_finished(task=None, state=None, **_kwargs) -> None:
    # In the process that ran the task: a pool child, counting in the shared directory.
    from app.worker_metrics import task_finished

    task_finished(task.name, state)


celery_app = make_celery()
celery_app.steps["consumer"].add(Consuming)
celery_app.steps["consumer"].add(MeasuringQueues)


@lru_cache(maxsize=1)
def _engine() -> Engine:
    # One pool per worker process, created lazily after the prefork pool forked.
    return make_sync_engine(get_settings())


@celery_app.task(name="notes.count_words", bind=True, max_retries=3, default_retry_delay=5)
def count_words(self, note_id: int) -> int | None:
    """Store the number of words in a note's title and body. Returns it, or None if the note is gone."""
    try:
        with Session(_engine()) as session, session.begin():
            note = session.get(Note, note_id, with_for_update=True)
            if note is None:
                log.info("note %s was deleted before its words were counted", note_id)
                return None
            note.word_count = len(WORD.findall(f"{note.title} {note.body}"))
            return note.word_count
    except Exception as exc:  # transient database errors: try again a few times
        raise self.retry(exc=exc) from exc
