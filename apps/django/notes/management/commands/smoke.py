"""`python manage.py smoke BASE_URL`: the release's smoke test, the way its users reach it.

Walks the notes API's key flow through BASE_URL (the blue-green preview Service, when the release
analysis runs it in a Job of this image): a request without a token is refused, then a note is
created, read back, deleted, and is gone. Every request but the first carries the first token of
API_TOKENS. Once created, the note is deleted whatever happens next, so the test leaves nothing
users could see. Exit 0 when every step answered as it should; 1, with the step and the answer,
when one did not.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import ClassVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

REQUEST_TIMEOUT_SECONDS = 10
# An answer of the release: its status and its body.
Answer = tuple[int, bytes]


class Command(BaseCommand):
    help = "Walk the notes flow (create, read back, delete) through BASE_URL with a token of API_TOKENS."
    # The flow talks to the release through HTTP only; Django's checks would only slow the Job.
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("base_url", help="the release's base URL, such as http://api-preview.api-prod.svc:80")

    def handle(self, *args: object, base_url: str, **options: object) -> None:
        # BASE_URL is the platform's: the release analysis passes the preview Service's http URL.
        if not base_url.startswith(("http://", "https://")):
            raise CommandError(f"BASE_URL must be an http:// or https:// URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = settings.API_TOKENS[0]
        self.expect("GET /notes without a token", self.send("GET", "/notes?limit=1", authenticated=False), 401)
        title = f"smoke test {uuid.uuid4()}"
        status, created = self.send("POST", "/notes", {"title": title, "body": "written and deleted by the smoke test"})
        self.expect("POST /notes", (status, created), 201)
        note_id = json_object(created).get("id")
        if not isinstance(note_id, int):
            raise CommandError(f"POST /notes: the answer names no note id: {created[:200]!r}")
        path = f"/notes/{note_id}"
        deleted = False
        try:
            read = self.send("GET", path)
            self.expect(f"GET {path}", read, 200)
            if json_object(read[1]).get("title") != title:
                raise CommandError(f"GET {path}: the note read back is not the one written: {read[1][:200]!r}")
            self.expect(f"DELETE {path}", self.send("DELETE", path), 204)
            deleted = True
            self.expect(f"GET {path} after its deletion", self.send("GET", path), 404)
        finally:
            if not deleted:
                self.discard(path)
        self.stdout.write(f"smoke: {self.base_url}: the notes flow works")

    def send(self, method: str, path: str, payload: dict | None = None, authenticated: bool = True) -> Answer:
        headers = {"Accept": "application/json"}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(payload).encode()
        url = f"{self.base_url}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - see handle()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError as exc:
            raise CommandError(f"{method} {path}: no answer ({exc})") from exc

    def expect(self, step: str, answer: Answer, status: int) -> None:
        if answer[0] != status:
            raise CommandError(f"{step}: expected {status}, got {answer[0]}: {answer[1][:200]!r}")
        self.stdout.write(f"smoke: {step}: {status}")

    def discard(self, path: str) -> None:
        """Deletes the note of a flow that broke half-way, so it does not stay where users see it; says
        so when even that fails, without hiding the failure that broke the flow."""
        try:
            status = self.send("DELETE", path)[0]
        except CommandError as failure:
            status, reason = None, str(failure)
        else:
            reason = f"answered {status}"
        if status not in (204, 404):
            self.stderr.write(f"smoke: could not delete {path} after the failure ({reason}); delete it by hand")


def json_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise CommandError(f"expected a JSON object, got {body[:200]!r}")
    return data
