from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_create_get_list_delete(client: TestClient) -> None:
    created = client.post("/notes", json={"title": "First", "body": "hello postgres world"})
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["title"] == "First" and note["body"] == "hello postgres world"
    assert isinstance(note["id"], int) and note["created_at"]

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
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text

    def count(route: str, status: str, method: str = "GET") -> float:
        match = re.search(
            rf'^http_requests_total\{{method="{method}",route="{re.escape(route)}",status="{status}"\}} (\S+)$',
            text, re.M,
        )
        assert match, f"no sample for {method} {route} {status}"
        return float(match.group(1))

    assert count("/notes/{note_id}", "200") >= 1
    assert count("/notes/{note_id}", "404") >= 1
    assert count("/notes", "201", "POST") >= 1
    assert re.search(r'^http_request_duration_seconds_bucket\{le="0.1",method="GET",route="/notes/\{note_id\}",status="200"\}', text, re.M) \
        or re.search(r'^http_request_duration_seconds_bucket\{.*route="/notes/\{note_id\}".*\}', text, re.M)
    # Raw paths never become labels, and probes are not counted.
    assert f'route="/notes/{note["id"]}"' not in text
    assert 'route="/health/ready"' not in text


def test_cors_allows_only_configured_origins(client: TestClient) -> None:
    ok = client.options("/notes", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "https://app.example.com"
    bad = client.options("/notes", headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in bad.headers
