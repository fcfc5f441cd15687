from __future__ import annotations

import json
import socket

import psycopg
import pytest
from django.db import connections

from core.health import READINESS_TIMEOUT_SECONDS, readiness

from .helpers import free_port, get, gunicorn
from .testenv import TEST_DATABASE_URL


def test_live(client) -> None:
    response = client.get("/health/live", HTTP_HOST="10.1.2.3:8000")  # probes use the pod IP
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_postgres_only(client) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok"}}


@pytest.mark.django_db
def test_readiness_does_not_borrow_from_the_request_pool() -> None:
    pool = connections["default"].pool
    stats = pool.get_stats()
    in_use = stats["pool_size"] - stats["pool_available"]  # this test's own transaction holds one
    held = [pool.getconn() for _ in range(pool.max_size - in_use)]
    try:
        stats = pool.get_stats()
        assert stats["pool_size"] == pool.max_size
        assert stats["pool_available"] == 0
        status, body = readiness()
    finally:
        for conn in held:
            pool.putconn(conn)
    assert (status, body) == (200, {"status": "ok", "checks": {"postgres": "ok"}})


def test_the_check_has_one_connection_of_its_own() -> None:
    for _ in range(3):
        assert readiness()[0] == 200
    with psycopg.connect(TEST_DATABASE_URL) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'notes-test-readiness'"
        ).fetchone()[0]
    assert count == 1


def test_unreachable_postgres_is_named_without_details() -> None:
    # The real server, configured against a port where nothing listens.
    with gunicorn(DATABASE_URL=f"postgresql://someone:wrong-password@127.0.0.1:{free_port()}/app") as server:
        status, body = get(f"{server.base}/health/ready")
        live_status, _ = get(f"{server.base}/health/live")
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "failed": ["postgres"], "checks": {"postgres": "unavailable"}}
    for leak in (b"wrong-password", b"someone", b"127.0.0.1", b"connection"):
        assert leak not in body
    assert live_status == 200  # liveness never depends on Postgres or Redis
    assert "readiness: postgres unavailable: OperationalError" in server.output  # the cause is in the log


def test_a_slow_database_is_a_timeout_after_the_named_limit() -> None:
    # A listener that never answers: the TCP connection opens, the Postgres handshake never ends.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with gunicorn(DATABASE_URL=f"postgresql://api:pw@127.0.0.1:{silent.getsockname()[1]}/app") as server:
            status, body = get(f"{server.base}/health/ready")
    assert status == 503
    assert json.loads(body)["checks"] == {"postgres": "timeout"}
    assert READINESS_TIMEOUT_SECONDS <= 1.0  # the probe's 2 s timeoutSeconds must stay above it


def test_migrate_then_serve_ready_and_metrics(migrated: None) -> None:
    with gunicorn() as server:
        assert get(f"{server.base}/health/ready")[0] == 200
        get(f"{server.base}/notes/987654321")
        status, body = get(f"{server.metrics}/metrics")
    assert status == 200
    assert b'http_requests_total{method="GET",route="/notes/<int:pk>",status="404"}' in body
