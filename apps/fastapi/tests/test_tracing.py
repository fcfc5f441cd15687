"""Traces reach an OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set (a loopback collector)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace

from app.config import Settings
from app.main import create_app


def test_spans_are_exported(monkeypatch: pytest.MonkeyPatch, migrated: None) -> None:
    received: list[tuple[str, str, int]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, self.headers.get("Content-Type", ""), len(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}/")
        with TestClient(create_app(Settings())) as client:
            assert client.get("/notes/1234567").status_code == 404
        assert trace.get_tracer_provider().force_flush(10_000)
    finally:
        server.shutdown()
    assert received, "no spans were exported"
    path, content_type, size = received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert size > 0
