"""The two sample apps, each run from its own directory and virtualenv (the apps share no code)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

APPS_DIR = Path(__file__).resolve().parent.parent.parent
SECRET_NAMES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "SENTRY_DSN", "API_TOKENS")
API_TOKENS = ("contract-api-token-0123456789abcdefghijklmnopqrstuvwxyz", "contract-next-token-9876543210zyxwvutsrqpo")


@dataclass(frozen=True)
class App:
    name: str
    database_url: str
    redis_url: str
    # The command of the migration Job, in the image's working directory.
    migrate: tuple[str, ...]
    # Runs CODE after loading the app's settings (and prints what it prints).
    settings_loader: str

    @property
    def dir(self) -> Path:
        return APPS_DIR / self.name

    @property
    def python(self) -> str:
        return str(self.dir / os.environ.get("APPS_VENV", ".venv") / "bin" / "python")

    def secrets(self) -> dict[str, str]:
        """The Secret's keys for this app, as the platform would fill them."""
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": f"contract-secret-key-of-{self.name}-0123456789-0123456789-0123456789",
            "API_TOKENS": ",".join(API_TOKENS),
        }

    def environment(self, secrets_dir: Path, **overrides: str) -> dict[str, str]:
        """The ConfigMap's settings as environment variables; the secrets are files in SECRETS_DIR."""
        base = {key: value for key, value in os.environ.items() if key not in SECRET_NAMES}
        for key in ("PROMETHEUS_MULTIPROC_DIR", "OTEL_EXPORTER_OTLP_ENDPOINT", "ALLOWED_HOSTS", "FORWARDED_ALLOW_IPS"):
            base.pop(key, None)
        return {
            **base,
            "ENVIRONMENT": "test",
            "APP_NAME": f"contract-{self.name}",
            "APP_VERSION": "1.2.3",
            "SECRETS_DIR": str(secrets_dir),
            "DB_POOL_SIZE": "2",
            "DB_MAX_OVERFLOW": "2",
            **overrides,
        }

    def run(self, args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.python, *args], cwd=self.dir, env=env, capture_output=True, text=True, timeout=timeout
        )

    def load_settings(self, env: dict[str, str], code: str = "") -> subprocess.CompletedProcess:
        return self.run(["-c", f"{self.settings_loader}\n{code}"], env)

    def gunicorn_settings(self, env: dict[str, str]) -> dict:
        """gunicorn.conf.py's values, as gunicorn reads them (a module's globals)."""
        code = (
            "import json, runpy; c = runpy.run_path('gunicorn.conf.py');"
            "print(json.dumps({k: v for k, v in c.items() if isinstance(v, (str, int, bool))}))"
        )
        proc = self.run(["-c", code], env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


def write_secrets(directory: Path, secrets: dict[str, str]) -> Path:
    directory.mkdir(mode=0o700, exist_ok=True)
    for name, value in secrets.items():
        (directory / name).write_text(value + "\n")
    return directory


def free_ports(count: int) -> list[int]:
    """COUNT distinct loopback ports with nothing listening, all held until all are chosen."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Response:
    status: int
    headers: Message  # names compared case-insensitively, as HTTP has them
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def request(url: str, method: str = "GET", token: str | None = None, body: str | None = None) -> Response:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.headers, exc.read())


@dataclass
class Server:
    base: str
    metrics: str
    output: str = ""


def _answers(url: str) -> bool:
    try:
        return request(url).status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(app: App, env: dict[str, str]) -> Iterator[Server]:
    """The app's real server (gunicorn.conf.py, two workers) on free loopback ports."""
    port, metrics_port = free_ports(2)
    with tempfile.TemporaryDirectory(prefix="prometheus-") as prom_dir:
        proc = subprocess.Popen(
            [app.python, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=app.dir,
            env={
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "METRICS_PORT": str(metrics_port),
                "WEB_CONCURRENCY": "2",
                "PROMETHEUS_MULTIPROC_DIR": prom_dir,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = Server(base=f"http://127.0.0.1:{port}", metrics=f"http://127.0.0.1:{metrics_port}")
        # Read while it runs: a pipe nobody reads fills up and blocks the server's log writes.
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while not (_answers(f"{server.base}/health/live") and _answers(f"{server.metrics}/metrics")):
                if proc.poll() is not None:
                    reader.join(10)
                    raise AssertionError(f"{app.name}: gunicorn exited with {proc.returncode}:\n{''.join(lines)}")
                assert time.monotonic() < deadline, f"{app.name}: gunicorn did not start within 60s"
                time.sleep(0.2)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(30)
            server.output = "".join(lines)
