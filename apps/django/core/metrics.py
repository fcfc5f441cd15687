"""Prometheus metrics: request count and latency by route template, method and status.

Gunicorn runs several worker processes; each writes its samples to files under
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it up). The gunicorn master serves /metrics on
METRICS_PORT, aggregating those files, so a scrape sees the whole pod rather than whichever worker
answered, and the app port, which the Ingress routes to, has no /metrics at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests handled, by route template, method and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to produce a response, by route template, method and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def serve(port: int, collectors: Iterable[Collector] = ()) -> ThreadingHTTPServer:
    """Serve GET /metrics on 0.0.0.0:PORT from a background thread of the calling process (the
    gunicorn master): every worker's samples plus COLLECTORS. Any other path is a 404."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in collectors:
        registry.register(collector)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.partition("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # a scrape every few seconds is not worth a log line

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 - Prometheus scrapes the pod's IP
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
