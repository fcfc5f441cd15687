from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .helpers import APP_DIR, free_port, get, gunicorn


def test_live(client) -> None:
    response = client.get("/health/live", HTTP_HOST="10.1.2.3:8000")  # probes use the pod IP
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_both_dependencies_are_up(client) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


@pytest.mark.parametrize("dependency", ["postgres", "redis"])
def test_ready_names_the_failed_dependency(dependency: str) -> None:
    # The real server, configured against a port where nothing listens.
    port = free_port()
    override = (
        {"DATABASE_URL": f"postgresql://api:wrong-password@127.0.0.1:{port}/app"}
        if dependency == "postgres"
        else {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    )
    with gunicorn(**override) as base:
        status, body = get(f"{base}/health/ready")
        live_status, _ = get(f"{base}/health/live")
    assert status == 503
    data = json.loads(body)
    assert data["status"] == "unavailable"
    assert data["failed"] == [dependency]
    assert data["reason"].startswith(f"{dependency}: ")
    other = "redis" if dependency == "postgres" else "postgres"
    assert data["checks"][other] == "ok"
    assert b"wrong-password" not in body
    assert live_status == 200  # liveness never depends on Postgres or Redis


def test_migrate_then_serve_ready_and_metrics() -> None:
    # The deployment's migration command, against the real database, then the real server.
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=APP_DIR,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    with gunicorn() as base:
        assert get(f"{base}/health/ready")[0] == 200
        get(f"{base}/notes/987654321")
        status, body = get(f"{base}/metrics")
    assert status == 200
    assert b'http_requests_total{method="GET",route="/notes/<int:pk>",status="404"}' in body
