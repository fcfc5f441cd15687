"""Error reports go to Sentry only when SENTRY_DSN is set, tagged with the deployment's identity."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from app.config import Settings
from app.observability import init_sentry


def test_no_dsn_means_no_client() -> None:
    init_sentry(Settings())
    assert not sentry_sdk.get_client().is_active()


def test_events_reach_the_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[bytes] = []

    class Ingest(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            # The SDK gzips envelopes unless told otherwise.
            received.append(gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("SENTRY_DSN", f"http://publickey@127.0.0.1:{server.server_address[1]}/42")
        init_sentry(Settings())
        client = sentry_sdk.get_client()
        assert client.is_active()
        assert client.options["environment"] == "test"
        assert client.options["release"] == "notes-test@1.2.3"
        assert client.options["data_collection"]["user_info"] is False
        assert client.options["data_collection"]["http_bodies"] == []
        sentry_sdk.capture_message("sentry wiring test")
        client.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        server.shutdown()
    assert any(b"sentry wiring test" in body for body in received)
