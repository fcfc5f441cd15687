"""Signed, expiring tokens (HMAC-SHA256) that survive a rotation of SECRET_KEY.

A token is ``<payload>.<signature>``, both base64url: the payload is JSON with the subject and the
expiry time, the signature an HMAC over the token's purpose and the payload. The purpose keeps a
token made for one use (a share link) from being accepted by another.

Signing always uses SECRET_KEY. Verification accepts a signature by SECRET_KEY or by any key in
SECRET_KEY_FALLBACKS, so after a rotation the tokens signed with the previous key keep working until
they expire; once the fallback is removed they stop verifying.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from app.config import Settings


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, purpose: str, payload: str) -> str:
    message = f"{purpose}.{payload}".encode()
    return _b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest())


def sign(settings: Settings, purpose: str, subject: str, ttl_seconds: int, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ttl_seconds)
    payload = _b64encode(json.dumps({"sub": subject, "exp": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(settings.secret_key.get_secret_value(), purpose, payload)}"


def verify(settings: Settings, purpose: str, token: str, now: float | None = None) -> str | None:
    """The subject of a token that is well-formed, signed by a current or fallback key for this
    purpose and not expired; None for anything else (the caller does not learn which check failed)."""
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        return None
    keys = [settings.secret_key, *settings.secret_key_fallbacks]
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters, which a client can
    # put in the URL (/notes/shared/abc.%C3%A9), and that error would be a 500.
    presented = signature.encode()
    if not any(
        hmac.compare_digest(presented, _signature(key.get_secret_value(), purpose, payload).encode()) for key in keys
    ):
        return None
    try:
        claims = json.loads(_b64decode(payload))
        subject, expires = claims["sub"], claims["exp"]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(subject, str) or not isinstance(expires, int):
        return None
    return subject if (time.time() if now is None else now) < expires else None
