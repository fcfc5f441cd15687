"""Prometheus metrics: request count and latency by route template, method and status.

Gunicorn runs several worker processes; each keeps its own counters in files under
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it up). The gunicorn master serves /metrics on
METRICS_PORT, aggregating those files, so a scrape sees the whole pod rather than whichever worker
answered, and the app port, which the Ingress routes to, has no /metrics at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

# Probes every few seconds would drown the real traffic.
UNTRACKED = {"/health/live", "/health/ready"}


def route_template(scope: Scope) -> str:
    # Label by template (/notes/{note_id}), never by raw path: raw paths make unbounded label sets.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class PrometheusMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streaming responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACKED:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client sees if the app raises before responding

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            labels = (scope["method"], route_template(scope), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - start)


def serve(port: int, collectors: Iterable[Collector] = ()) -> ThreadingHTTPServer:
    """Serve GET /metrics on 0.0.0.0:PORT from a background thread of the calling process (the
    gunicorn master, or the Celery worker's main process): every child's samples plus COLLECTORS.
    Any other path is a 404."""
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
