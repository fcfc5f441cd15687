"""Database models and engines (SQLAlchemy 2, psycopg 3 for both async and sync access)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Text, create_engine, false, func
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.config import Settings

# How long a request waits for Postgres to accept a new pooled connection. Generous on purpose:
# TCP, TLS and SCRAM on a starved node took over 3 s (the earlier bound), and every request that
# needed a connection then answered 500, which counts against a release's analysis. A database
# that refuses fails at once whatever the bound, and one that does not answer is found by the
# readiness check, which has its own bound (health.py) and takes the pod out of rotation.
CONNECT_TIMEOUT_SECONDS = 10
# Pooled connections each process opens before it serves: enough for the requests a pod's share
# of traffic has in flight at once, few enough that starting pods does not crowd the database.
WARM_CONNECTIONS = 2

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # Filled in asynchronously by the Celery task app.celery.count_words.
    word_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Added by an expand-only migration: the database default lets a release that does not know the
    # column keep inserting rows while it runs beside this one.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def _pool_options(settings: Settings) -> dict[str, Any]:
    """Pool settings both engines share."""
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        # Connections die with failovers and idle timeouts; test them before use.
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    }


def make_async_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(settings.async_database_url, pool_timeout=10, **_pool_options(settings))


def make_sync_engine(settings: Settings) -> Engine:
    return create_engine(settings.sync_database_url, **_pool_options(settings))


async def warm(engine: AsyncEngine, connections: int = WARM_CONNECTIONS) -> None:
    """Opens pooled connections before the first request needs one.

    Connecting (TCP, TLS, SCRAM) is the slowest step of a request on a cold pool. A release that
    takes its share of traffic all at once (a blue-green promotion) would otherwise connect for
    many requests at once, on a node busy starting pods, and those requests waited out the connect
    timeout. Best effort: an unreachable database must not stop the process from starting, since
    readiness reports it and the pool connects again on demand.
    """
    opened = []
    try:
        for _ in range(min(connections, engine.pool.size())):
            opened.append(await engine.connect())
    except Exception as error:  # noqa: BLE001 - any failure leaves the pool to connect on demand
        logger.warning("database pool not warmed (%s: %s); connecting on demand", type(error).__name__, error)
    finally:
        for connection in opened:
            await connection.close()
