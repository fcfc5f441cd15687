"""JSON API for notes. Every view needs a bearer token (core.auth) except reading a note through its
share link. CSRF protection applies to cookie sessions, which this API does not use, so the views
are exempt."""

from __future__ import annotations

import json

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.auth import token_not_required
from notes.models import Note

MAX_LIMIT = 200
# Share links are signed tokens (django.core.signing), not rows: nothing to store, and a key
# rotation (SECRET_KEY plus the old key in SECRET_KEY_FALLBACKS) keeps the links already handed out
# working until they expire.
SHARE_SALT = "notes.share"


def error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def collection(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        try:
            limit = int(request.GET.get("limit", "50"))
        except ValueError:
            return error(422, "limit must be an integer")
        if not 1 <= limit <= MAX_LIMIT:
            return error(422, f"limit must be between 1 and {MAX_LIMIT}")
        return JsonResponse([note.as_dict() for note in Note.objects.all()[:limit]], safe=False)

    try:
        payload = json.loads(request.body or b"{}")
    # JSONDecodeError is a ValueError, and so are bytes that are not UTF-8 and integers too long to
    # convert; nesting deep enough exhausts the parser's recursion.
    except (ValueError, RecursionError):
        return error(400, "body must be JSON")
    if not isinstance(payload, dict):
        return error(422, "body must be a JSON object")
    pinned = payload.get("pinned", False)
    if not isinstance(pinned, bool):
        return error(422, "pinned must be true or false")
    title, body = payload.get("title", ""), payload.get("body", "")
    if not isinstance(title, str) or not isinstance(body, str):
        return error(422, "title and body must be strings")
    note = Note(title=title, body=body, pinned=pinned)
    try:
        note.full_clean(exclude=["word_count"])
    except ValidationError as exc:
        return JsonResponse({"detail": exc.message_dict}, status=422)
    note.save()
    return JsonResponse(note.as_dict(), status=201)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def item(request: HttpRequest, pk: int) -> HttpResponse:
    note = Note.objects.filter(pk=pk).first()
    if note is None:
        return error(404, "note not found")
    if request.method == "DELETE":
        note.delete()
        return HttpResponse(status=204)
    return JsonResponse(note.as_dict())


@csrf_exempt
@require_http_methods(["POST"])
def share(request: HttpRequest, pk: int) -> HttpResponse:
    """A read-only link to one note that expires after ACCESS_TOKEN_EXPIRE_MINUTES."""
    if not Note.objects.filter(pk=pk).exists():
        return error(404, "note not found")
    token = signing.dumps(pk, salt=SHARE_SALT)
    # Absolute URL: its scheme is https only when a trusted proxy said so (FORWARDED_ALLOW_IPS).
    url = request.build_absolute_uri(reverse("shared-note", args=[token]))
    return JsonResponse({"url": url, "expires_in": settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60}, status=201)


@token_not_required
@require_http_methods(["GET"])
def shared(request: HttpRequest, token: str) -> HttpResponse:
    try:
        pk = signing.loads(token, salt=SHARE_SALT, max_age=settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60)
    except signing.BadSignature:  # includes SignatureExpired
        return error(404, "link invalid or expired")
    note = Note.objects.filter(pk=pk).first()
    if note is None:
        return error(404, "note not found")
    return JsonResponse(note.as_dict())
