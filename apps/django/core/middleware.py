"""Client address from trusted proxies, health endpoints, Prometheus request metrics and CORS.

Health is answered before the rest of the stack (host validation, sessions, CSRF): kubelet probes
address the pod IP and must not depend on any of that. /metrics is not here: the gunicorn master
serves it on METRICS_PORT (core/metrics.py).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.health import readiness
from core.metrics import LATENCY, REQUESTS

UNTRACKED = {"/health/live", "/health/ready"}


class TrustedProxyMiddleware:
    """REMOTE_ADDR becomes the client's address from X-Forwarded-For, but only when the peer is a
    trusted proxy (FORWARDED_ALLOW_IPS, the list gunicorn also applies to the scheme); from anyone
    else the header is ignored. The walk goes right to left and stops at the first address that is
    not a trusted proxy: everything left of it was written by the client and proves nothing.
    Gunicorn's access log reads the same environ, so it logs the address chosen here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks = settings.FORWARDED_ALLOW_IPS  # None: every peer is trusted

    def trusted(self, address: str) -> bool:
        if self.networks is None:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        if forwarded and self.trusted(request.META.get("REMOTE_ADDR", "")):
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            client = next((hop for hop in reversed(hops) if not self.trusted(hop)), hops[0] if hops else None)
            if client is not None and _is_ip(client):
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path == "/health/live":
                return JsonResponse({"status": "ok"})
            if request.path == "/health/ready":
                status, body = readiness()
                return JsonResponse(body, status=status)
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
