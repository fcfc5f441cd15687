from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from prometheus_client import REGISTRY, generate_latest

from notes.views import SHARE_SALT

pytestmark = pytest.mark.django_db


def test_create_get_list_delete(client) -> None:
    created = client.post("/notes", {"title": "First", "body": "hello postgres world"}, content_type="application/json")
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["title"] == "First"
    assert note["word_count"] == 4
    assert note["pinned"] is False

    assert client.get(f"/notes/{note['id']}").json()["id"] == note["id"]
    listed = client.get("/notes", {"limit": 5})
    assert listed.status_code == 200
    assert note["id"] in [n["id"] for n in listed.json()]

    assert client.delete(f"/notes/{note['id']}").status_code == 204
    assert client.get(f"/notes/{note['id']}").status_code == 404


def test_validation(client) -> None:
    assert client.post("/notes", {"title": ""}, content_type="application/json").status_code == 422
    assert client.post("/notes", {"title": "x" * 201}, content_type="application/json").status_code == 422
    assert client.post("/notes", "not json", content_type="application/json").status_code == 400
    assert client.get("/notes", {"limit": "0"}).status_code == 422
    assert client.put("/notes").status_code == 405
    # Input that once reached Postgres or the JSON parser and came back as a 500.
    for body in ('{"title": "nul\\u0000"}', '{"title": "ok", "body": "\\u0000"}', '{"title": 5}', '{"title": ["a"]}'):
        assert client.post("/notes", body, content_type="application/json").status_code == 422, body
    for body in ("1" * 5000, "[" * 100_000, b"\xff\xfe"):
        assert client.post("/notes", body, content_type="application/json").status_code == 400
    # Far beyond the bigint id column: no such note, not a database error.
    assert client.get("/notes/99999999999999999999").status_code == 404


def test_metrics_by_route_template(client) -> None:
    note = client.post("/notes", {"title": "metrics"}, content_type="application/json").json()
    client.get(f"/notes/{note['id']}")
    client.get("/health/ready")
    # Served by the gunicorn master on METRICS_PORT only (tests/test_server.py); the app port,
    # which the Ingress routes to, has no /metrics. In this single process the registry is direct.
    assert client.get("/metrics").status_code == 404
    text = generate_latest(REGISTRY).decode()
    assert re.search(r'^http_requests_total\{method="GET",route="/notes/<int:pk>",status="200"\} [1-9]', text, re.M)
    assert re.search(r'^http_requests_total\{method="POST",route="/notes",status="201"\} [1-9]', text, re.M)
    assert re.search(
        r'^http_request_duration_seconds_count\{method="GET",route="/notes/<int:pk>",status="200"\}', text, re.M
    )
    assert f'route="/notes/{note["id"]}"' not in text
    assert 'route="/health/ready"' not in text


def test_cors(client) -> None:
    ok = client.options("/notes", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    bad = client.options("/notes", HTTP_ORIGIN="https://evil.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in bad


def test_pinned_notes(client) -> None:
    note = client.post("/notes", {"title": "keep on top", "pinned": True}, content_type="application/json").json()
    assert note["pinned"] is True
    assert client.get(f"/notes/{note['id']}").json()["pinned"] is True
    bad = client.post("/notes", {"title": "x", "pinned": "maybe"}, content_type="application/json")
    assert bad.status_code == 422


def test_share_link_reads_the_note_until_it_expires(client, monkeypatch: pytest.MonkeyPatch) -> None:
    note = client.post("/notes", {"title": "shared", "body": "read me"}, content_type="application/json").json()
    shared = client.post(f"/notes/{note['id']}/share")
    assert shared.status_code == 201, shared.content
    link = shared.json()
    assert link["expires_in"] == 30 * 60  # ACCESS_TOKEN_EXPIRE_MINUTES
    assert link["url"].startswith("http://testserver/notes/shared/")
    opened = client.get(link["url"])
    assert opened.status_code == 200
    assert opened.json()["body"] == "read me"

    assert client.get(link["url"][:-2] + "xx").status_code == 404
    assert client.get("/notes/shared/abc.%C3%A9").status_code == 404  # a non-ASCII signature
    assert client.get(f"/notes/shared/{signing.dumps(note['id'], salt='another.purpose')}").status_code == 404
    assert client.post("/notes/2000000000/share").status_code == 404
    # Past its lifetime the same link is refused (signing reads the clock through time.time).
    issued = signing.loads(link["url"].rsplit("/", 1)[1], salt=SHARE_SALT)
    assert issued == note["id"]
    now = time.time
    monkeypatch.setattr(time, "time", lambda: now() + 30 * 60 + 1)
    assert client.get(link["url"]).status_code == 404


@pytest.mark.parametrize(("fallbacks", "status"), [(["old-key-" + "o" * 50], 200), ([], 404)])
def test_share_links_across_a_key_rotation(client, settings, fallbacks: list[str], status: int) -> None:
    # Release N signs with the old key; release N+1 runs the new key, with or without the old one
    # as a fallback. Links handed out before the rotation keep working only with the fallback.
    settings.SECRET_KEY = "old-key-" + "o" * 50
    note = client.post("/notes", {"title": "rotated"}, content_type="application/json").json()
    url = client.post(f"/notes/{note['id']}/share").json()["url"]
    settings.SECRET_KEY = "new-key-" + "n" * 50
    settings.SECRET_KEY_FALLBACKS = fallbacks
    assert client.get(url).status_code == status
    # New links are signed with the new key only: they verify without any fallback.
    fresh = client.post(f"/notes/{note['id']}/share").json()["url"]
    settings.SECRET_KEY_FALLBACKS = []
    assert client.get(fresh).status_code == 200
