"""Share tokens kept out of logs and traces.

A share link (/notes/shared/<token>) opens its note to anyone who has it, until it expires: the
token must not reach the access log or a trace, whose readers are not meant to read notes. Both see
the path with the token replaced: /notes/shared/[redacted].
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest
    from opentelemetry.sdk.trace import Span

# Not a route template (/notes/shared/{token}, notes/shared/<str:token>), which names no token.
SHARE_TOKEN = re.compile(r"(/notes/shared/)(?![{<])[^/?#\s\"]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return SHARE_TOKEN.sub(REDACTED, text)


class RedactShareTokens(logging.Filter):
    """For gunicorn's access logger, whose record carries the request's atoms (request line, path,
    referer) as a mapping; changed in place, since gunicorn's mapping answers header lookups too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            for key, value in record.args.items():
                if isinstance(value, str):
                    record.args[key] = redact(value)
        return True


def redact_span(span: Span, _request: HttpRequest) -> None:
    """The server span's request hook: its URL attributes (http.target, http.url, url.path, ...)
    are set when it starts, before this runs; the route template in its name has no token."""
    if not span.is_recording():
        return
    for key, value in list(span.attributes.items()):
        if isinstance(value, str) and SHARE_TOKEN.search(value):
            span.set_attribute(key, redact(value))
