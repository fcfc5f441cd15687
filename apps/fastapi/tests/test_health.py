from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

from .conftest import closed_port


def test_live(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_both_dependencies_are_up(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


@pytest.mark.parametrize("dependency", ["postgres", "redis"])
def test_ready_names_the_failed_dependency(monkeypatch: pytest.MonkeyPatch, dependency: str) -> None:
    port = closed_port()
    if dependency == "postgres":
        monkeypatch.setenv("DATABASE_URL", f"postgresql://api:wrong@127.0.0.1:{port}/app")
    else:
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    with TestClient(create_app(Settings())) as client:
        response = client.get("/health/ready")
        live = client.get("/health/live")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == [dependency]
    assert body["reason"].startswith(f"{dependency}: ")
    other = "redis" if dependency == "postgres" else "postgres"
    assert body["checks"][other] == "ok"
    assert "wrong" not in response.text  # the password never appears in the reason
    # Liveness does not depend on either: an outage must not restart the pods.
    assert live.status_code == 200
