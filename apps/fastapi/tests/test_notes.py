from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, generate_latest

from app import tokens
from app.config import Settings
from app.main import create_app
from app.notes import SHARE_PURPOSE

from .conftest import AUTH


def test_create_get_list_delete(client: TestClient) -> None:
    created = client.post("/notes", json={"title": "First", "body": "hello postgres world"})
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["title"] == "First"
    assert note["body"] == "hello postgres world"
    assert note["pinned"] is False
    assert isinstance(note["id"], int)
    assert note["created_at"]

    fetched = client.get(f"/notes/{note['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["id"] == note["id"]

    listed = client.get("/notes", params={"limit": 5})
    assert listed.status_code == 200
    assert note["id"] in [n["id"] for n in listed.json()]

    assert client.delete(f"/notes/{note['id']}").status_code == 204
    assert client.get(f"/notes/{note['id']}").status_code == 404
    assert client.delete(f"/notes/{note['id']}").status_code == 404


def test_validation(client: TestClient) -> None:
    # Postgres text cannot hold NUL: refused before it reaches the database.
    assert client.post("/notes", json={"title": "nul\x00"}).status_code == 422
    assert client.post("/notes", json={"title": "ok", "body": "\x00"}).status_code == 422
    assert client.post("/notes", json={"title": ""}).status_code == 422
    assert client.post("/notes", json={"title": "x" * 201}).status_code == 422
    assert client.get("/notes", params={"limit": 0}).status_code == 422
    assert client.get("/notes/not-a-number").status_code == 422
    # Beyond the id column's range: a client error, never a database error.
    assert client.get("/notes/9999999999").status_code == 422
    assert client.delete("/notes/0").status_code == 422


def test_metrics_by_route_template(client: TestClient) -> None:
    note = client.post("/notes", json={"title": "metrics"}).json()
    client.get(f"/notes/{note['id']}")
    client.get("/notes/999999999")
    client.get("/health/ready")
    # Served by the gunicorn master on METRICS_PORT only (tests/test_server.py); the app port,
    # which the Ingress routes to, has no /metrics. In this single process the registry is direct.
    assert client.get("/metrics").status_code == 404
    text = generate_latest(REGISTRY).decode()

    def count(route: str, status: str, method: str = "GET") -> float:
        match = re.search(
            rf'^http_requests_total\{{method="{method}",route="{re.escape(route)}",status="{status}"\}} (\S+)$',
            text,
            re.M,
        )
        assert match, f"no sample for {method} {route} {status}"
        return float(match.group(1))

    assert count("/notes/{note_id}", "200") >= 1
    assert count("/notes/{note_id}", "404") >= 1
    assert count("/notes", "201", "POST") >= 1
    assert re.search(
        r'^http_request_duration_seconds_bucket\{le="0.1",method="GET",route="/notes/\{note_id\}",status="200"\}',
        text,
        re.M,
    ) or re.search(r'^http_request_duration_seconds_bucket\{.*route="/notes/\{note_id\}".*\}', text, re.M)
    # Raw paths never become labels, and probes are not counted.
    assert f'route="/notes/{note["id"]}"' not in text
    assert 'route="/health/ready"' not in text


def test_cors_allows_only_configured_origins(client: TestClient) -> None:
    ok = client.options(
        "/notes", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert ok.headers.get("access-control-allow-origin") == "https://app.example.com"
    bad = client.options(
        "/notes", headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in bad.headers


def test_pinned_notes(client: TestClient) -> None:
    note = client.post("/notes", json={"title": "keep on top", "pinned": True}).json()
    assert note["pinned"] is True
    assert client.get(f"/notes/{note['id']}").json()["pinned"] is True
    assert client.post("/notes", json={"title": "x", "pinned": "maybe"}).status_code == 422


def test_share_link_reads_the_note_until_it_expires(client: TestClient) -> None:
    note = client.post("/notes", json={"title": "shared", "body": "read me"}).json()
    shared = client.post(f"/notes/{note['id']}/share")
    assert shared.status_code == 201, shared.text
    link = shared.json()
    assert link["expires_in"] == 30 * 60  # ACCESS_TOKEN_EXPIRE_MINUTES
    assert link["url"].startswith("http://testserver/notes/shared/")
    opened = client.get(link["url"])
    assert opened.status_code == 200
    assert opened.json()["body"] == "read me"

    token = link["url"].rsplit("/", 1)[1]
    settings = client.app.state.settings
    assert tokens.verify(settings, SHARE_PURPOSE, token) == str(note["id"])
    expired = tokens.sign(settings, SHARE_PURPOSE, str(note["id"]), ttl_seconds=60, now=0)
    assert client.get(f"/notes/shared/{expired}").status_code == 404
    assert client.get(f"/notes/shared/{token[:-2]}xx").status_code == 404
    # A signature that is not ASCII is a wrong one, not an error in the comparison.
    assert client.get("/notes/shared/abc.%C3%A9").status_code == 404
    assert client.get(f"/notes/shared/{token.split('.')[0]}.%C3%A9%00").status_code == 404
    assert client.post("/notes/2000000000/share").status_code == 404


@pytest.mark.parametrize(("fallbacks", "status"), [("old-key-" + "o" * 50, 200), ("", 404)])
def test_share_links_across_a_key_rotation(
    monkeypatch: pytest.MonkeyPatch, migrated: None, fallbacks: str, status: int
) -> None:
    # Release N signs with the old key; release N+1 runs the new key, with or without the old one
    # as a fallback. Links handed out before the rotation keep working only with the fallback.
    monkeypatch.setenv("SECRET_KEY", "old-key-" + "o" * 50)
    with TestClient(create_app(Settings()), headers=AUTH) as before:
        note = before.post("/notes", json={"title": "rotated"}).json()
        url = before.post(f"/notes/{note['id']}/share").json()["url"]
    monkeypatch.setenv("SECRET_KEY", "new-key-" + "n" * 50)
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", fallbacks)
    with TestClient(create_app(Settings()), headers=AUTH) as after:
        assert after.get(url).status_code == status
        # New links are signed with the new key only: they verify without any fallback.
        fresh = after.post(f"/notes/{note['id']}/share").json()["url"].rsplit("/", 1)[1]
    assert tokens.verify(Settings(secret_key="new-key-" + "n" * 50, secret_key_fallbacks=[]), SHARE_PURPOSE, fresh)
