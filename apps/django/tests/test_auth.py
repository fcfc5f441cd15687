"""Bearer tokens on every notes operation except the share link; health stays open; the admin site
only when DJANGO_ADMIN_ENABLED turns it on."""

from __future__ import annotations

import http.client

import pytest
from django.test import Client

from .helpers import gunicorn, request
from .testenv import API_TOKEN, BASE_ENV

pytestmark = pytest.mark.django_db

NEXT_TOKEN = BASE_ENV["API_TOKENS"].split(",")[1]
PROTECTED = [("GET", "/notes"), ("POST", "/notes"), ("GET", "/notes/{id}"), ("POST", "/notes/{id}/share")]
WRONG = {
    "missing": {},
    "wrong token": {"Authorization": "Bearer not-one-of-the-api-tokens-0123456789abcdef"},
    "a prefix of a token": {"Authorization": f"Bearer {API_TOKEN[:-1]}"},
    "another scheme": {"Authorization": f"Basic {API_TOKEN}"},
    "no token": {"Authorization": "Bearer "},
    # WSGI hands header values over as Latin-1: UTF-8 bytes on the wire arrive like this.
    "non-ASCII": {"Authorization": "Bearer t\u00c3\u00a9st-\u00c3\u00bf"},
}


def call(client: Client, method: str, path: str, note_id: int, headers: dict[str, str]):
    body = '{"title": "auth"}' if (method, path) == ("POST", "/notes") else ""
    return client.generic(method, path.format(id=note_id), body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("case", WRONG)
def test_every_notes_operation_needs_a_token(client: Client, anonymous: Client, case: str) -> None:
    note_id = client.post("/notes", {"title": "guarded"}, content_type="application/json").json()["id"]
    for method, path in [*PROTECTED, ("DELETE", "/notes/{id}")]:
        response = call(anonymous, method, path, note_id, WRONG[case])
        assert response.status_code == 401, (method, path, response.content)
        assert response["WWW-Authenticate"] == "Bearer"
        assert response.json() == {"detail": "missing or invalid bearer token"}
    assert client.get(f"/notes/{note_id}").status_code == 200  # nothing was deleted


@pytest.mark.parametrize("token", [API_TOKEN, NEXT_TOKEN])
def test_every_token_in_the_list_is_accepted(anonymous: Client, token: str) -> None:
    # Two tokens at once: clients move to the new one before the old one is removed.
    headers = {"Authorization": f"bearer {token}"}  # the scheme is case-insensitive
    created = anonymous.post("/notes", {"title": "rotating"}, content_type="application/json", headers=headers)
    note_id = created.json()["id"]
    for method, path in PROTECTED:
        assert call(anonymous, method, path, note_id, headers).status_code < 300, (method, path)
    assert anonymous.delete(f"/notes/{note_id}", headers=headers).status_code == 204


def test_share_links_and_health_need_no_token(client: Client, anonymous: Client) -> None:
    note_id = client.post("/notes", {"title": "public"}, content_type="application/json").json()["id"]
    url = client.post(f"/notes/{note_id}/share").json()["url"]
    assert anonymous.get(url).json()["title"] == "public"
    assert anonymous.get("/health/live").status_code == 200
    assert anonymous.get("/health/ready").status_code == 200


@pytest.mark.parametrize(("enabled", "status"), [(None, 404), ("true", 302)])
def test_the_admin_site_only_when_enabled(migrated: None, enabled: str | None, status: int) -> None:
    with gunicorn(**({"DJANGO_ADMIN_ENABLED": enabled} if enabled else {})) as server:
        # No bearer token: the admin sends the browser to its own login for staff users. (The page
        # itself needs the static files collected in the image.)
        connection = http.client.HTTPConnection(server.base.removeprefix("http://"), timeout=10)
        connection.request("GET", "/admin/")
        response = connection.getresponse()
        connection.close()
        assert response.status == status
        if enabled:
            assert response.getheader("Location") == "/admin/login/?next=/admin/"
            assert request(f"{server.base}/notes", auth=False)[0] == 401  # the API still needs its token
