"""Bearer-token authentication of the notes API.

A request sends ``Authorization: Bearer <token>`` with one of the tokens in API_TOKENS. Tokens are
compared as SHA-256 digests with hmac.compare_digest, against every configured token, so neither
the time to answer nor an exception depends on what the client sent. A missing or wrong token gets
401 with ``WWW-Authenticate: Bearer``. The dependency is declared on the router (app/notes.py), so
the OpenAPI schema shows which operations need it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

bearer = HTTPBearer(auto_error=False, description="One of the tokens in the API_TOKENS secret.")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class ApiTokens:
    """The accepted tokens, kept as digests only."""

    def __init__(self, tokens: Iterable[SecretStr]) -> None:
        self._digests = [_digest(token.get_secret_value()) for token in tokens]

    def accepts(self, token: str) -> bool:
        presented = _digest(token)
        # Every token is compared (a list, not a short-circuiting generator): which one matched,
        # or whether any did, does not change how long this takes.
        return any([hmac.compare_digest(presented, digest) for digest in self._digests])  # noqa: C419


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> None:
    if credentials is None or not request.app.state.api_tokens.accepts(credentials.credentials):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
