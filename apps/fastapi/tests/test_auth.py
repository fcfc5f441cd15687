"""Bearer tokens on every notes operation except the share link; health stays open."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

from .conftest import API_TOKEN, BASE_ENV

NEXT_TOKEN = BASE_ENV["API_TOKENS"].split(",")[1]
PROTECTED = [("GET", "/notes"), ("POST", "/notes"), ("GET", "/notes/{id}"), ("POST", "/notes/{id}/share")]
WRONG = {
    "missing": {},
    "wrong token": {"Authorization": "Bearer not-one-of-the-api-tokens-0123456789abcdef"},
    "a prefix of a token": {"Authorization": f"Bearer {API_TOKEN[:-1]}"},
    "another scheme": {"Authorization": f"Basic {API_TOKEN}"},
    "no token": {"Authorization": "Bearer "},
    "non-ASCII": {"Authorization": "Bearer t\u00e9st-\u00ff".encode()},  # UTF-8 bytes on the wire
}


@pytest.fixture
def anonymous(migrated: None):
    with TestClient(create_app(Settings())) as client:
        yield client


def call(client: TestClient, method: str, path: str, note_id: int, headers: dict[str, str | bytes]):
    body = {"title": "auth"} if (method, path) == ("POST", "/notes") else None
    return client.request(method, path.format(id=note_id), json=body, headers=headers)


@pytest.mark.parametrize("case", WRONG)
def test_every_notes_operation_needs_a_token(client: TestClient, anonymous: TestClient, case: str) -> None:
    note_id = client.post("/notes", json={"title": "guarded"}).json()["id"]
    for method, path in [*PROTECTED, ("DELETE", "/notes/{id}")]:
        response = call(anonymous, method, path, note_id, WRONG[case])
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json() == {"detail": "missing or invalid bearer token"}
    assert client.get(f"/notes/{note_id}").status_code == 200  # nothing was deleted


@pytest.mark.parametrize("token", [API_TOKEN, NEXT_TOKEN])
def test_every_token_in_the_list_is_accepted(anonymous: TestClient, token: str) -> None:
    # Two tokens at once: clients move to the new one before the old one is removed.
    headers = {"Authorization": f"bearer {token}"}  # the scheme is case-insensitive
    note_id = anonymous.post("/notes", json={"title": "rotating"}, headers=headers).json()["id"]
    for method, path in PROTECTED:
        assert call(anonymous, method, path, note_id, headers).status_code < 300, (method, path)
    assert anonymous.delete(f"/notes/{note_id}", headers=headers).status_code == 204


def test_share_links_and_health_need_no_token(client: TestClient, anonymous: TestClient) -> None:
    note_id = client.post("/notes", json={"title": "public"}).json()["id"]
    url = client.post(f"/notes/{note_id}/share").json()["url"]
    assert anonymous.get(url).json()["title"] == "public"
    assert anonymous.get("/health/live").status_code == 200
    assert anonymous.get("/health/ready").status_code == 200


def test_the_schema_shows_which_operations_need_a_token() -> None:
    schema = create_app(Settings()).openapi()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the tokens in the API_TOKENS secret.",
    }
    secured = {
        (method.upper(), path): bool(operation.get("security"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert secured == {
        ("GET", "/notes"): True,
        ("POST", "/notes"): True,
        ("GET", "/notes/{note_id}"): True,
        ("DELETE", "/notes/{note_id}"): True,
        ("POST", "/notes/{note_id}/share"): True,
        ("GET", "/notes/shared/{token}"): False,
        ("GET", "/health/live"): False,
        ("GET", "/health/ready"): False,
    }
