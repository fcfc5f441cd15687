"""Typed readers for environment variables that collect every problem before failing.

Django would otherwise fail on the first missing value, one deploy at a time; this reports all of
them at once and never prints a value (several are secrets).
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_problems: list[str] = []

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def required(name: str) -> str:
    value = _raw(name)
    if not value:
        _problems.append(f"{name}: required but not set")
        return ""
    return value


def optional(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def boolean(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    _problems.append(f"{name}: expected true or false, got {value!r}")
    return default


def integer(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        _problems.append(f"{name}: expected an integer, got {value!r}")
        return default
    if number < minimum or (maximum is not None and number > maximum):
        _problems.append(f"{name}: must be between {minimum} and {maximum if maximum is not None else 'any'}")
        return default
    return number


def csv(name: str) -> list[str]:
    return [item.strip() for item in optional(name).split(",") if item.strip()]


def networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """Comma-separated IP addresses or CIDR networks; None for `*` (any address)."""
    entries = [item.strip() for item in optional(name, default).split(",") if item.strip()]
    if "*" in entries:
        return None
    parsed = []
    for entry in entries:
        try:
            parsed.append(ipaddress.ip_network(entry))
        except ValueError:
            _problems.append(
                f"{name}: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8); "
                "expected a comma-separated list of them, or *"
            )
    return parsed


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = optional(name, default)
    if value not in choices:
        _problems.append(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return value


def problem(message: str) -> None:
    _problems.append(message)


def database_from_url(name: str, url: str) -> dict:
    """Django DATABASES entry from a plain postgresql://user:pass@host:port/db URL."""
    if not url:
        return {}
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        _problems.append(f"{name}: must start with postgresql:// (e.g. postgresql://user:pass@host:5432/db)")
        return {}
    if not parts.hostname or not parts.path.strip("/"):
        _problems.append(f"{name}: must name a host and a database")
        return {}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(parts.port or 5432),
    }


def check() -> None:
    """Raise once, listing everything that is wrong. Call at the end of the settings module."""
    if _problems:
        problems = "\n".join(f"  {p}" for p in _problems)
        _problems.clear()
        raise ImproperlyConfigured(f"invalid configuration:\n{problems}")
