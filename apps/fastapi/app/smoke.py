"""Smoke test of a running release, the way its users reach it:

    python -m app.smoke BASE_URL

Walks the notes API's key flow through BASE_URL (the blue-green preview Service, when the release
analysis runs it in a Job of this image): a request without a token is refused, then a note is
created, read back, deleted, and is gone. Every request but the first carries the first token of
API_TOKENS, read as the app reads it (SECRETS_DIR or the environment). Once created, the note is
deleted whatever happens next, so the test leaves nothing users could see. Exit 0 when every step
answered as it should; 1, with the step and the answer on stderr, when one did not.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from app.config import load_settings

REQUEST_TIMEOUT_SECONDS = 10


class SmokeError(Exception):
    """A step of the flow got an answer other than the one it needs."""


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> dict:
        try:
            data = json.loads(self.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise SmokeError(f"expected a JSON object, got {self.body[:200]!r}")
        return data


class Client:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def send(self, method: str, path: str, payload: dict | None = None, authenticated: bool = True) -> Answer:
        headers = {"Accept": "application/json"}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(payload).encode()
        url = f"{self.base_url}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - see main()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read())
        except OSError as exc:
            raise SmokeError(f"{method} {path}: no answer ({exc})") from exc


def expect(step: str, answer: Answer, status: int) -> None:
    if answer.status != status:
        raise SmokeError(f"{step}: expected {status}, got {answer.status}: {answer.body[:200]!r}")
    print(f"smoke: {step}: {status}")  # noqa: T201 - the Job's log is how an operator reads the run


def run(client: Client) -> None:
    expect("GET /notes without a token", client.send("GET", "/notes?limit=1", authenticated=False), 401)
    title = f"smoke test {uuid.uuid4()}"
    created = client.send("POST", "/notes", {"title": title, "body": "written and deleted by the release's smoke test"})
    expect("POST /notes", created, 201)
    note_id = created.json().get("id")
    if not isinstance(note_id, int):
        raise SmokeError(f"POST /notes: the answer names no note id: {created.body[:200]!r}")
    path = f"/notes/{note_id}"
    deleted = False
    try:
        read = client.send("GET", path)
        expect(f"GET {path}", read, 200)
        if read.json().get("title") != title:
            raise SmokeError(f"GET {path}: the note read back is not the one written: {read.body[:200]!r}")
        expect(f"DELETE {path}", client.send("DELETE", path), 204)
        deleted = True
        expect(f"GET {path} after its deletion", client.send("GET", path), 404)
    finally:
        if not deleted:
            discard(client, path)


def discard(client: Client, path: str) -> None:
    """Deletes the note of a flow that broke half-way, so it does not stay where users see it; says
    so when even that fails, without hiding the failure that broke the flow."""
    try:
        status = client.send("DELETE", path).status
    except SmokeError as failure:
        status, reason = None, str(failure)
    else:
        reason = f"answered {status}"
    if status not in (204, 404):
        sys.stderr.write(f"smoke: could not delete {path} after the failure ({reason}); delete it by hand\n")


def main(argv: list[str]) -> int:
    # BASE_URL is the platform's: the release analysis passes the preview Service's http URL.
    if len(argv) != 1 or not argv[0].startswith(("http://", "https://")):
        sys.stderr.write("usage: python -m app.smoke BASE_URL (an http:// or https:// URL)\n")
        return 2
    settings = load_settings()
    client = Client(argv[0], settings.api_tokens[0].get_secret_value())
    try:
        run(client)
    except SmokeError as failure:
        sys.stderr.write(f"smoke test failed: {failure}\n")
        return 1
    print(f"smoke: {client.base_url}: the notes flow works")  # noqa: T201 - as above
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
