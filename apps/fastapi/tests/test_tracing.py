"""Traces reach an OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set (a loopback collector),
and share tokens are not in them."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from app.config import Settings
from app.main import create_app

from .conftest import AUTH


def test_spans_are_exported_without_share_tokens(monkeypatch: pytest.MonkeyPatch, migrated: None) -> None:
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}/")
        with TestClient(create_app(Settings()), headers=AUTH) as client:
            assert client.get("/notes/1234567").status_code == 404
            note = client.post("/notes", json={"title": "traced"}).json()
            url = client.post(f"/notes/{note['id']}/share").json()["url"]
            assert client.get(url + "?via=mail").status_code == 200
        assert trace.get_tracer_provider().force_flush(10_000)
    finally:
        server.shutdown()
    assert received, "no spans were exported"
    assert {(path, content_type) for path, content_type, _ in received} == {("/v1/traces", "application/x-protobuf")}
    token = url.rsplit("/", 1)[1]
    assert not any(token.encode() in body for _, _, body in received)
    spans = [
        span
        for _, _, body in received
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    (shared,) = [span for span in spans if span.name == "GET /notes/shared/{token}"]
    attributes = {attribute.key: attribute.value.string_value for attribute in shared.attributes}
    assert attributes["http.target"] == "/notes/shared/[redacted]"
    assert attributes["http.url"] == "http://testserver/notes/shared/[redacted]?via=mail"
    assert attributes["http.route"] == "/notes/shared/{token}"
