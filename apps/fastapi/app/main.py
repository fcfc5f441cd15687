"""Application factory. Gunicorn loads it as ``app.main:create_app()`` (see gunicorn.conf.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import health, notes
from app.auth import ApiTokens
from app.config import Settings, get_settings
from app.db import make_async_engine, warm
from app.health import DatabaseCheck
from app.metrics import PrometheusMiddleware
from app.observability import init_sentry, init_tracing


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(
        level=logging.DEBUG if settings.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    init_sentry(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Created per worker process after the fork: pools must not be shared across processes.
        app.state.engine = make_async_engine(settings)
        app.state.database_check = DatabaseCheck(
            settings.libpq_database_url, application_name=f"{settings.app_name}-readiness"
        )
        notes.prepare_publishing()
        await warm(app.state.engine)
        try:
            yield
        finally:
            await app.state.database_check.close()
            await app.state.engine.dispose()

    app = FastAPI(
        title=settings.app_name,
        version=settings.app_version,
        debug=settings.debug,
        lifespan=lifespan,
        # Interactive docs are for development; production exposes only the API.
        docs_url="/docs" if settings.environment == "development" else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.environment == "development" else None,
    )
    app.state.settings = settings
    app.state.api_tokens = ApiTokens(settings.api_tokens)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(PrometheusMiddleware)
    app.include_router(health.router)
    app.include_router(notes.router)
    app.include_router(notes.public)
    init_tracing(app, settings)
    return app
