"""The real server (gunicorn.conf.py, uvicorn workers) as a subprocess, for what only it does: the
metrics port served by the master, forwarded headers checked against the peer, the access log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis

from .conftest import APP_DIR, AUTH


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
    auth: bool = True,
) -> tuple[int, bytes]:
    """A request with the suite's bearer token unless AUTH is false; the status and the body."""
    headers = {
        **(AUTH if auth else {}),
        **(headers or {}),
        **({"Content-Type": "application/json"} if json_body is not None else {}),
    }
    data = json_body.encode() if json_body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Server:
    base: str
    metrics: str
    # Everything gunicorn and its workers printed; complete once the context has exited.
    output: str = ""


def _answers(url: str) -> bool:
    try:
        return request(url, timeout=2)[0] == 200
    except OSError:
        return False


@contextmanager
def gunicorn(workers: int = 1, **env_overrides: str) -> Iterator[Server]:
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
        # Read while it runs: a pipe nobody reads fills up (64 KiB) and then blocks every log write
        # of the server, and with it every request, a few hundred requests in.
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 30
            while not (_answers(f"{server.base}/health/live") and _answers(f"{server.metrics}/metrics")):
                if proc.poll() is not None:
                    reader.join(10)
                    raise AssertionError(f"gunicorn exited with {proc.returncode}:\n{''.join(lines)}")
                if time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start within 30s")
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


# The bound on any answer to a generated request (tests/test_fuzz.py says why).
ANSWER_BOUND_SECONDS = 1.0


@dataclass
class FuzzStats:
    """What the generated requests did; the suite prints it at the end."""

    cases: Counter[str] = field(default_factory=Counter)  # by kind: with or without a token
    sent_again: int = 0  # answers slower than the bound, sent a second time
    slowest: float = 0.0  # the slowest answer that counted


FUZZ = FuzzStats()


def fuzz_call(case: schemathesis.Case, base_url: str, headers: dict[str, str], kind: str) -> schemathesis.Response:
    """Sends CASE to the server and checks what every answer must be; returns the response. A slow
    answer is sent again once: an input that makes the server work is slow every time, whereas a
    moment when the machine's two CPUs were busy elsewhere is not."""
    reproduce = case.as_curl_command()
    for attempt in range(2):
        FUZZ.sent_again += attempt
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        assert response.status_code < 500, f"{response.status_code} for {reproduce}"
        assert b"Traceback" not in response.content, f"a stack trace in the answer to {reproduce}"
        if response.elapsed < ANSWER_BOUND_SECONDS:
            break
    else:
        pytest.fail(f"{response.elapsed:.2f}s, twice, for {reproduce}")
    FUZZ.cases[kind] += 1
    FUZZ.slowest = max(FUZZ.slowest, response.elapsed)
    return response
