"""Celery application and tasks. Worker: ``celery -A app.celery worker -l info``."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from celery import Celery
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.config import get_settings
from app.cpu import available_cpus, concurrency_from_env
from app.db import Note, make_sync_engine

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
        # A hung task must not occupy a worker slot forever.
        task_time_limit=60,
        task_soft_time_limit=50,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_connect_timeout": 3, "socket_timeout": 10},
        worker_hijack_root_logger=False,
        # Celery's default is the node's core count; size the prefork pool from the container's CPU
        # quota instead (CELERY_CONCURRENCY or `--concurrency` override it).
        worker_concurrency=concurrency_from_env("CELERY_CONCURRENCY", available_cpus()),
    )
    return celery


celery_app = make_celery()


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
