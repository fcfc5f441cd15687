"""The real server: /metrics on the master's port only, dependency gauges, forwarded headers checked
against the peer, ALLOWED_HOSTS enforced while probes keep working."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from core.dependencies import DependencyMonitor

from .helpers import APP_DIR, Server, free_port, get, gunicorn, request


def sample(text: str, name: str, **labels: str) -> float | None:
    rendered = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(rendered)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def scrape_when(server: Server, ready: callable) -> str:
    """The metrics text once READY(text) holds: the master checks dependencies in the background."""
    deadline = time.monotonic() + 30
    while True:
        status, body = get(f"{server.metrics}/metrics")
        assert status == 200
        text = body.decode()
        if ready(text):
            return text
        assert time.monotonic() < deadline, f"metrics never satisfied the condition:\n{text}"
        time.sleep(0.2)


def test_metrics_only_on_the_metrics_port_aggregated_over_workers(migrated: None) -> None:
    with gunicorn(workers=2) as server:
        for _ in range(12):
            assert get(f"{server.base}/notes/1999999999")[0] == 404
        assert get(f"{server.base}/metrics")[0] == 404  # the app port never serves it
        assert get(f"{server.metrics}/")[0] == 404
        assert get(f"{server.metrics}/notes")[0] == 404
        text = scrape_when(server, lambda t: sample(t, "dependency_up", dependency="redis") is not None)
    assert sample(text, "http_requests_total", method="GET", route="/notes/<int:pk>", status="404") == 12
    assert sample(text, "dependency_up", dependency="postgres") == 1
    assert sample(text, "dependency_up", dependency="redis") == 1
    assert sample(text, "dependency_check_duration_seconds", dependency="postgres") > 0


def test_redis_down_shows_in_metrics_and_logs_not_in_readiness(migrated: None) -> None:
    with gunicorn(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0") as server:
        text = scrape_when(server, lambda t: sample(t, "dependency_up", dependency="redis") is not None)
        ready = get(f"{server.base}/health/ready")
    assert sample(text, "dependency_up", dependency="redis") == 0
    assert sample(text, "dependency_up", dependency="postgres") == 1
    assert ready[0] == 200
    assert "dependency redis is down: ConnectionError" in server.output


def test_metrics_port_must_differ_from_the_app_port() -> None:
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "METRICS_PORT": str(port)},
        timeout=60,
    )
    assert proc.returncode != 0
    assert f"METRICS_PORT: {port} is the app's port too" in proc.stderr + proc.stdout


SPOOF = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("allow", "trusted"),
    [
        ("10.0.0.0/8, 127.0.0.0/8", True),  # networks, as the platform passes the ingress pods' range
        ("10.0.0.0/8", False),  # this test's peer (127.0.0.1) is not a trusted proxy
    ],
)
def test_forwarded_headers_only_from_trusted_proxies(migrated: None, allow: str, trusted: bool) -> None:
    with gunicorn(FORWARDED_ALLOW_IPS=allow) as server:
        status, body = request(f"{server.base}/notes", "POST", json_body='{"title": "forwarded"}')
        assert status == 201
        status, body = request(f"{server.base}/notes/{json.loads(body)['id']}/share", "POST", SPOOF)
        assert status == 201
    url = json.loads(body)["url"]
    (log_line,) = [line for line in server.output.splitlines() if "/share HTTP/1.1" in line]
    if trusted:
        assert url.startswith("https://")
        assert log_line.startswith("203.0.113.9 "), log_line
    else:
        # Neither the scheme nor the client address can be claimed by an untrusted peer.
        assert url.startswith("http://")
        assert log_line.startswith("127.0.0.1 "), log_line


def test_allowed_hosts_are_enforced_but_probes_and_metrics_keep_working(migrated: None) -> None:
    with gunicorn(ALLOWED_HOSTS="api.example.com,api,.api-dev.svc.cluster.local") as server:
        for host in ("api.example.com", "api", "api.api-dev.svc.cluster.local"):
            assert request(f"{server.base}/notes?limit=1", headers={"Host": host})[0] == 200, host
        assert request(f"{server.base}/notes?limit=1", headers={"Host": "evil.example.net"})[0] == 400
        pod_ip = {"Host": "10.1.2.3:8000"}  # what the kubelet sends
        assert request(f"{server.base}/notes?limit=1", headers=pod_ip)[0] == 400
        assert request(f"{server.base}/health/live", headers=pod_ip)[0] == 200
        assert request(f"{server.base}/health/ready", headers=pod_ip)[0] == 200
        assert request(f"{server.metrics}/metrics", headers=pod_ip)[0] == 200


def test_no_worker_is_forked_in_the_middle_of_a_dependency_check() -> None:
    """The master checks dependencies from a thread while it forks workers; a worker forked inside
    a check inherits that check's C-library locks held, and its first database connection hangs."""
    entered, finished = threading.Event(), threading.Event()

    def slow_check() -> None:
        entered.set()
        time.sleep(0.5)
        finished.set()

    DependencyMonitor({"slow": slow_check}, log=logging.getLogger("test")).start(interval=3600)
    assert entered.wait(10)
    pid = os.fork()
    if pid == 0:  # the child reports what it inherited: a check still running, or none
        os._exit(0 if finished.is_set() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the fork happened while a check was running"


def test_share_tokens_are_redacted_from_the_access_log(migrated: None) -> None:
    with gunicorn() as server:
        status, body = request(f"{server.base}/notes", "POST", json_body='{"title": "logged"}')
        assert status == 201
        status, body = request(f"{server.base}/notes/{json.loads(body)['id']}/share", "POST")
        url = json.loads(body)["url"]
        assert request(f"{url}?via=mail", auth=False)[0] == 200
        assert request(f"{server.base}/notes/shared/not-a-token", auth=False)[0] == 404
    token = url.rsplit("/", 1)[1]
    assert token not in server.output
    assert '"GET /notes/shared/[redacted]?via=mail HTTP/1.1" 200' in server.output
    assert '"GET /notes/shared/[redacted] HTTP/1.1" 404' in server.output
