"""Traces reach an OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set (a loopback collector),
and share tokens are not in them."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from .helpers import get, gunicorn, request


def test_spans_are_exported_from_the_real_server_without_share_tokens(migrated: None) -> None:
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

    def spans() -> list:
        return [
            span
            for _, _, body in list(received)
            for resource in ExportTraceServiceRequest.FromString(body).resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        with gunicorn(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100") as app_server:
            assert get(f"{app_server.base}/notes/not-a-route")[0] == 404
            note = json.loads(request(f"{app_server.base}/notes", "POST", json_body='{"title": "traced"}')[1])
            url = json.loads(request(f"{app_server.base}/notes/{note['id']}/share", "POST")[1])["url"]
            assert request(f"{url}?via=mail", auth=False)[0] == 200
            deadline = time.monotonic() + 15
            while len(spans()) < 4 and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        server.shutdown()
    assert received, "no spans were exported"
    assert {(path, content_type) for path, content_type, _ in received} == {("/v1/traces", "application/x-protobuf")}
    token = url.rsplit("/", 1)[1]
    assert not any(token.encode() in body for _, _, body in received)
    (shared,) = [span for span in spans() if span.name == "GET notes/shared/<str:token>"]
    attributes = {attribute.key: attribute.value.string_value for attribute in shared.attributes}
    assert attributes["http.target"] == "/notes/shared/[redacted]?via=mail"
    assert attributes["http.route"] == "notes/shared/<str:token>"
