"""The release's smoke test, `python -m app.smoke BASE_URL`: the notes flow against the real server,
and what it reports and leaves behind when the flow breaks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import psycopg

from .conftest import APP_DIR, DATABASE_URL
from .helpers import free_port, gunicorn, request


def smoke(base_url: str, **env: str) -> subprocess.CompletedProcess:
    """The command the release analysis's Job runs, with the suite's settings (API_TOKENS among them)."""
    return subprocess.run(
        [sys.executable, "-m", "app.smoke", base_url],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def smoke_notes() -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute("SELECT count(*) FROM notes WHERE title LIKE 'smoke test %'").fetchone()[0]


def test_the_flow_passes_against_the_real_server_and_leaves_no_note(migrated: None) -> None:
    before = smoke_notes()
    with gunicorn() as server:
        result = smoke(server.base)
        assert result.returncode == 0, result.stderr
        steps = re.findall(r"^smoke: (.+): (\d{3})$", result.stdout, re.M)
        assert [status for _, status in steps] == ["401", "201", "200", "204", "404"], result.stdout
        note = re.search(r"DELETE (/notes/\d+)", result.stdout).group(1)
        assert request(f"{server.base}{note}")[0] == 404
    assert smoke_notes() == before


def test_a_token_the_release_refuses_fails_the_flow_and_creates_nothing(migrated: None) -> None:
    before = smoke_notes()
    with gunicorn() as server:
        result = smoke(server.base, API_TOKENS="a-token-this-server-does-not-know-0123456789")
    assert result.returncode == 1
    assert "POST /notes: expected 201, got 401" in result.stderr
    assert smoke_notes() == before


def test_a_release_that_does_not_answer_fails_the_flow() -> None:
    result = smoke(f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "GET /notes?limit=1: no answer" in result.stderr


def test_only_an_http_url_is_a_base_url() -> None:
    for argv in ([], ["notes.example.com"], ["http://a", "http://b"]):
        result = subprocess.run(
            [sys.executable, "-m", "app.smoke", *argv], cwd=APP_DIR, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2
        assert "usage: python -m app.smoke BASE_URL" in result.stderr


class BrokenRead(BaseHTTPRequestHandler):
    """A stand-in for a release whose reads fail: it refuses requests without a token, creates note 7,
    answers 500 when asked for it and records every request."""

    seen: ClassVar[list[str]] = []

    def answer(self, status: int, body: object = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        if "Authorization" not in self.headers:
            self.answer(401, {"detail": "missing or invalid bearer token"})
        elif self.command == "POST":
            self.rfile.read(int(self.headers["Content-Length"]))
            self.answer(201, {"id": 7, "title": "whatever was sent"})
        elif self.command == "GET":
            self.answer(500, {"detail": "broken release"})
        else:
            self.answer(204)

    def do_GET(self) -> None:
        self.handle_one()

    def do_POST(self) -> None:
        self.handle_one()

    def do_DELETE(self) -> None:
        self.handle_one()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def broken_read() -> Iterator[str]:
    BrokenRead.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), BrokenRead)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_flow_broken_after_the_note_was_created_still_deletes_it() -> None:
    with broken_read() as base:
        result = smoke(base)
    assert result.returncode == 1
    assert "GET /notes/7: expected 200, got 500" in result.stderr
    assert BrokenRead.seen == ["GET /notes?limit=1", "POST /notes", "GET /notes/7", "DELETE /notes/7"]
