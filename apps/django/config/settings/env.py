"""Typed readers for settings that collect every problem before failing.

Django would otherwise fail on the first missing value, one deploy at a time; this reports all of
them at once and never prints a value (several are secrets).

The ConfigMap's settings are environment variables. The secrets (the names given to
read_secret_files) are files in SECRETS_DIR, where the pod mounts the Kubernetes Secret (one file
per key, named like the variable), or environment variables of the same names, so a plain
`docker run -e` keeps working. When a secret is given both ways the two values must be equal; the
process refuses to start otherwise, since either could be the stale one.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_SECRETS_DIR = "/run/secrets/app"
# RFC 6750's b64token: the characters a bearer token may carry in an Authorization header.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

_problems: list[str] = []
# The secrets read from SECRETS_DIR, by name; they come before the environment.
_secret_files: dict[str, str] = {}

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = _secret_files.get(name, os.environ.get(name))
    return value.strip() if value is not None else None


def read_secret_files(names: tuple[str, ...]) -> Path | None:
    """Reads the secrets NAMES from SECRETS_DIR after checking the directory and every one of their
    files; returns the directory, or None when it is the default and does not exist (a container
    started without the Secret's volume, a developer's shell)."""
    configured = os.environ.get("SECRETS_DIR", "").strip()
    path = Path(configured or DEFAULT_SECRETS_DIR)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if configured:
            _problems.append(f"SECRETS_DIR: {path} does not exist")
        return None
    if not stat.S_ISDIR(mode):
        _problems.append(f"SECRETS_DIR: {path} is not a directory")
        return None
    # Kubernetes mounts a Secret's volume world-writable (mode 1777) but always read-only, which
    # is what makes it safe; writable by anyone, a file planted there would become a secret.
    if mode & stat.S_IWOTH and not os.statvfs(path).f_flag & os.ST_RDONLY:
        _problems.append(f"SECRETS_DIR: {path} is writable by every user; mount it read-only or remove o+w")
    for name in names:
        _read_secret_file(path / name, name)
    return path


def _read_secret_file(file: Path, name: str) -> None:
    if not os.path.lexists(file):
        return
    try:
        # Kubernetes' files are links into a timestamped directory beside them: follow them.
        if not stat.S_ISREG(file.stat().st_mode):
            _problems.append(f"{name}: {file} is not a regular file")
            return
        value = file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        _problems.append(f"{name}: {file} is a link to nothing")
        return
    except UnicodeDecodeError:
        _problems.append(f"{name}: {file} is not UTF-8 text")
        return
    if name in os.environ and os.environ[name].strip() != value:
        _problems.append(f"{name}: the environment variable and {file} differ; set it in one place")
        return
    _secret_files[name] = value


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


def tokens(name: str) -> list[str]:
    """A required comma-separated list of bearer tokens."""
    raw = required(name)
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if raw and not items:
        _problems.append(f"{name}: at least one token is required")
    for number, item in enumerate(items, 1):
        if not B64TOKEN.fullmatch(item):
            _problems.append(
                f"{name}: token {number} of {len(items)} has characters other than A-Z a-z 0-9 - . _ ~ + / "
                "(and = at its end)"
            )
    return items


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
