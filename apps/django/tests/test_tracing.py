"""Traces reach an OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set (a loopback collector)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .helpers import get, gunicorn


def test_spans_are_exported_from_the_real_server() -> None:
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
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        with gunicorn(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100") as app_server:
            assert get(f"{app_server.base}/notes/not-a-route")[0] == 404
            deadline = time.monotonic() + 15
            while not received and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        server.shutdown()
    assert received, "no spans were exported"
    path, content_type, size = received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert size > 0
