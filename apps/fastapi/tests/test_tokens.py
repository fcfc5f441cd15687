"""Token signing and verification across a key rotation (pure functions, no I/O)."""

from __future__ import annotations

import base64
import json

from app import tokens
from app.config import Settings

OLD, NEW, OTHER = "o" * 50, "n" * 50, "x" * 50


def keys(current: str, *fallbacks: str) -> Settings:
    return Settings(secret_key=current, secret_key_fallbacks=list(fallbacks))


def test_round_trip_until_expiry() -> None:
    token = tokens.sign(keys(NEW), "share", "42", ttl_seconds=60, now=1000)
    assert tokens.verify(keys(NEW), "share", token, now=1059) == "42"
    assert tokens.verify(keys(NEW), "share", token, now=1060) is None


def test_fallbacks_verify_but_never_sign() -> None:
    old_token = tokens.sign(keys(OLD), "share", "7", ttl_seconds=60, now=0)
    rotated = keys(NEW, OTHER, OLD)
    assert tokens.verify(rotated, "share", old_token, now=1) == "7"
    assert tokens.verify(keys(NEW), "share", old_token, now=1) is None  # fallback dropped
    new_token = tokens.sign(rotated, "share", "7", ttl_seconds=60, now=0)
    assert tokens.verify(keys(NEW), "share", new_token, now=1) == "7"
    assert tokens.verify(keys(OLD), "share", new_token, now=1) is None


def test_purpose_and_integrity() -> None:
    token = tokens.sign(keys(NEW), "share", "1", ttl_seconds=60, now=0)
    assert tokens.verify(keys(NEW), "reset", token, now=1) is None
    payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"sub": "2", "exp": 60}).encode()).rstrip(b"=").decode()
    assert tokens.verify(keys(NEW), "share", f"{forged}.{signature}", now=1) is None
    for garbage in ("", ".", "abc", f"{payload}.", f".{signature}", "!!!.???"):
        assert tokens.verify(keys(NEW), "share", garbage, now=1) is None
