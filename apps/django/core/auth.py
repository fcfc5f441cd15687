"""Bearer-token authentication of the API, in the manner of Django's LoginRequiredMiddleware:
every view needs ``Authorization: Bearer <token>`` with one of the tokens in API_TOKENS, unless it
is marked with @token_not_required (the share link, whose token is its own authorisation). A view
added later is protected without anyone having to remember it.

Tokens are compared as SHA-256 digests with hmac.compare_digest, against every configured token,
so neither the time to answer nor an exception depends on what the client sent. A missing or wrong
token gets 401 with ``WWW-Authenticate: Bearer``. The admin site, when DJANGO_ADMIN_ENABLED turns
it on, is left to its own login (staff users, a session cookie). Health is answered before any view
(core.middleware.HealthMiddleware) and /metrics outside Django, so neither needs a token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def token_not_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    view.token_required = False
    return view


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class BearerTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.digests = [_digest(token) for token in settings.API_TOKENS]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def accepts(self, token: str) -> bool:
        presented = _digest(token)
        # Every token is compared (a list, not a short-circuiting generator): which one matched,
        # or whether any did, does not change how long this takes.
        return any([hmac.compare_digest(presented, digest) for digest in self.digests])  # noqa: C419

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not getattr(view, "token_required", True) or request.resolver_match.app_name == "admin":
            return None
        # The same parsing as FastAPI's HTTPBearer: scheme, one space, the token.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and self.accepts(token):
            return None
        response = JsonResponse({"detail": "missing or invalid bearer token"}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
