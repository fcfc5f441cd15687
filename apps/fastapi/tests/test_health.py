from __future__ import annotations

import asyncio
import socket

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import WARM_CONNECTIONS
from app.health import READINESS_TIMEOUT_SECONDS
from app.main import create_app

from .conftest import AUTH, DATABASE_URL
from .helpers import free_port


def test_live(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_postgres_only(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok"}}


def test_redis_outage_leaves_the_pod_ready(monkeypatch: pytest.MonkeyPatch, migrated: None) -> None:
    # Redis carries fire-and-forget tasks only: without it notes are still saved and served.
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(Settings()), headers=AUTH) as client:
        assert client.get("/health/ready").status_code == 200
        created = client.post("/notes", json={"title": "saved without redis"})
    assert created.status_code == 201
    assert created.json()["word_count"] is None


def test_unreachable_postgres_is_named_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://someone:wrong-password@127.0.0.1:{free_port()}/app")
    with TestClient(create_app(Settings()), headers=AUTH) as client:
        response = client.get("/health/ready")
        live = client.get("/health/live")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["postgres"], "checks": {"postgres": "unavailable"}}
    # No exception text: neither the password nor the user or host reach the response.
    for leak in ("wrong-password", "someone", "127.0.0.1", "connection"):
        assert leak not in response.text
    # Liveness does not depend on the database: an outage must not restart the pods.
    assert live.status_code == 200


def test_a_slow_database_is_a_timeout_after_the_named_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A listener that never answers: the TCP connection opens, the Postgres handshake never ends.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("DATABASE_URL", f"postgresql://api:pw@127.0.0.1:{silent.getsockname()[1]}/app")
        with TestClient(create_app(Settings()), headers=AUTH) as client:
            response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"postgres": "timeout"}
    assert READINESS_TIMEOUT_SECONDS <= 1.0  # the probe's 2 s timeoutSeconds must stay above it


def test_readiness_does_not_borrow_from_the_request_pool(migrated: None) -> None:
    settings = Settings()
    with TestClient(create_app(settings), headers=AUTH) as client:
        engine = client.app.state.engine
        capacity = settings.db_pool_size + settings.db_max_overflow

        async def hold_every_pooled_connection() -> list:
            return [await engine.connect() for _ in range(capacity)]

        async def release(connections: list) -> None:
            await asyncio.gather(*(conn.close() for conn in connections))

        held = client.portal.call(hold_every_pooled_connection)
        try:
            assert engine.pool.checkedout() == capacity  # a request now would wait for the pool
            response = client.get("/health/ready")
        finally:
            client.portal.call(release, held)
    assert response.status_code == 200, response.text


def test_the_check_has_one_connection_of_its_own(migrated: None) -> None:
    with TestClient(create_app(Settings(app_name="readiness-conn-test")), headers=AUTH) as client:
        for _ in range(3):
            assert client.get("/health/ready").status_code == 200
        with psycopg.connect(DATABASE_URL) as conn:
            count = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'readiness-conn-test-readiness'"
            ).fetchone()[0]
    assert count == 1


def test_each_process_serves_with_its_pool_warm(migrated: None) -> None:
    settings = Settings()
    with TestClient(create_app(settings), headers=AUTH) as client:
        # Before any request: the connections are made and idle in the pool.
        assert client.app.state.engine.pool.checkedin() == min(WARM_CONNECTIONS, settings.db_pool_size)
