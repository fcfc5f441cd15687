from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_create_get_list_delete(client) -> None:
    created = client.post("/notes", {"title": "First", "body": "hello postgres world"}, content_type="application/json")
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["title"] == "First" and note["word_count"] == 4

    assert client.get(f"/notes/{note['id']}").json()["id"] == note["id"]
    listed = client.get("/notes", {"limit": 5})
    assert listed.status_code == 200 and note["id"] in [n["id"] for n in listed.json()]

    assert client.delete(f"/notes/{note['id']}").status_code == 204
    assert client.get(f"/notes/{note['id']}").status_code == 404


def test_validation(client) -> None:
    assert client.post("/notes", {"title": ""}, content_type="application/json").status_code == 422
    assert client.post("/notes", {"title": "x" * 201}, content_type="application/json").status_code == 422
    assert client.post("/notes", "not json", content_type="application/json").status_code == 400
    assert client.get("/notes", {"limit": "0"}).status_code == 422
    assert client.put("/notes").status_code == 405
    # Far beyond the bigint id column: no such note, not a database error.
    assert client.get("/notes/99999999999999999999").status_code == 404


def test_metrics_by_route_template(client) -> None:
    note = client.post("/notes", {"title": "metrics"}, content_type="application/json").json()
    client.get(f"/notes/{note['id']}")
    client.get("/health/ready")
    text = client.get("/metrics").content.decode()
    assert re.search(r'^http_requests_total\{method="GET",route="/notes/<int:pk>",status="200"\} [1-9]', text, re.M)
    assert re.search(r'^http_requests_total\{method="POST",route="/notes",status="201"\} [1-9]', text, re.M)
    assert re.search(r'^http_request_duration_seconds_count\{method="GET",route="/notes/<int:pk>",status="200"\}', text, re.M)
    assert f'route="/notes/{note["id"]}"' not in text
    assert 'route="/health/ready"' not in text


def test_cors(client) -> None:
    ok = client.options("/notes", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert ok.status_code == 204 and ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    bad = client.options("/notes", HTTP_ORIGIN="https://evil.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in bad
