from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent


def free_ports(count: int) -> list[int]:
    """COUNT distinct loopback ports with nothing listening. All are held until all are chosen:
    a port released at once can be handed out again by the next bind."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """A loopback port with nothing listening (bound then released)."""
    return free_ports(1)[0]


def request(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json_body: str | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    headers = {**(headers or {}), **({"Content-Type": "application/json"} if json_body is not None else {})}
    data = json_body.encode() if json_body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    return request(url, timeout=timeout)


@dataclass
class Server:
    base: str
    metrics: str
    # Everything gunicorn and its workers printed; complete once the context has exited.
    output: str = ""


def _answers(url: str) -> bool:
    try:
        return get(url, timeout=2)[0] == 200
    except OSError:
        return False


@contextmanager
def gunicorn(workers: int = 1, **env_overrides: str) -> Iterator[Server]:
    """The real server (gunicorn.conf.py) on free loopback ports, the app's and the metrics port."""
    port, metrics_port = free_ports(2)
    with tempfile.TemporaryDirectory(prefix="prometheus-") as prom_dir:
        env = {
            **os.environ,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "METRICS_PORT": str(metrics_port),
            "WEB_CONCURRENCY": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": prom_dir,
            **env_overrides,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=APP_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = Server(base=f"http://127.0.0.1:{port}", metrics=f"http://127.0.0.1:{metrics_port}")
        try:
            deadline = time.monotonic() + 30
            while not (_answers(f"{server.base}/health/live") and _answers(f"{server.metrics}/metrics")):
                if proc.poll() is not None:
                    raise AssertionError(f"gunicorn exited with {proc.returncode}:\n{proc.stdout.read()}")
                if time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start within 30s")
                time.sleep(0.2)
            yield server
        finally:
            proc.terminate()
            try:
                server.output, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                server.output, _ = proc.communicate()
