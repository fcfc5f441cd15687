"""Health endpoints, Prometheus metrics and CORS, as middleware.

Health and metrics are answered before the rest of the stack (host validation, sessions, CSRF):
kubelet probes and Prometheus scrapes address the pod IP, and must not depend on any of that.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from core.health import readiness

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
UNTRACKED = {"/metrics", "/health/live", "/health/ready"}


def metrics_body() -> bytes:
    # Gunicorn runs several processes; with PROMETHEUS_MULTIPROC_DIR each writes its samples to
    # files there and a scrape aggregates them all (gunicorn.conf.py prepares the directory).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


class HealthMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path == "/health/live":
                return JsonResponse({"status": "ok"})
            if request.path == "/health/ready":
                status, body = readiness()
                return JsonResponse(body, status=status)
            if request.path == "/metrics":
                return HttpResponse(metrics_body(), content_type=CONTENT_TYPE_LATEST)
        return self.get_response(request)


class PrometheusMiddleware:
    """Counts every response by route template (notes/<int:pk>), never by raw path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in UNTRACKED:
            return self.get_response(request)
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            match = getattr(request, "resolver_match", None)
            route = "/" + match.route if match is not None and match.route else "<unmatched>"
            labels = (request.method or "", route, str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - start)


class CorsMiddleware:
    """Minimal CORS for the JSON API: only origins listed in CORS_ORIGINS, no credentials."""

    ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
    ALLOW_HEADERS = "Authorization, Content-Type"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.origins = set(settings.CORS_ORIGINS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and (origin in self.origins or "*" in self.origins)
        preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        response = HttpResponse(status=204) if preflight and allowed else self.get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
            if preflight:
                response["Access-Control-Allow-Methods"] = self.ALLOW_METHODS
                response["Access-Control-Allow-Headers"] = self.ALLOW_HEADERS
                response["Access-Control-Max-Age"] = "600"
        return response
