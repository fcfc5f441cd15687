"""Database models and engines (SQLAlchemy 2, psycopg 3 for both async and sync access)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Text, create_engine, false, func
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.config import Settings

# Bound how long a request waits for Postgres to accept a connection, so /health/ready answers
# 503 quickly instead of hanging while the database is unreachable.
CONNECT_TIMEOUT_SECONDS = 3


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
