"""The word-count task, run by a real Celery worker process through the real Redis broker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.worker_liveness import MAX_AGE_SECONDS, problem

from .conftest import APP_DIR
from .helpers import free_port


@contextmanager
def celery_worker(**env_overrides: str) -> Iterator[subprocess.Popen]:
    # Same command as the Kubernetes worker Deployment, with a single solo process for the test.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.celery",
            "worker",
            "-l",
            "info",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=APP_DIR,
        env={**os.environ, **env_overrides},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()  # warm shutdown
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        print(out)


@pytest.fixture
def worker(migrated: None, tmp_path: Path) -> Iterator[subprocess.Popen]:
    with celery_worker(TMPDIR=str(tmp_path)) as proc:
        yield proc


def test_note_gets_its_word_count_from_the_worker(client: TestClient, worker: subprocess.Popen) -> None:
    note = client.post("/notes", json={"title": "Counting words", "body": "one two, three\nfour!"}).json()
    assert note["word_count"] is None  # filled in asynchronously

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.poll() is None, "celery worker exited"
        current = client.get(f"/notes/{note['id']}").json()
        if current["word_count"] is not None:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not process the task within 60s")
    assert current["word_count"] == 6


def test_task_result_through_the_result_backend(worker: subprocess.Popen, client: TestClient) -> None:
    from app.celery import count_words

    note = client.post("/notes", json={"title": "a b c"}).json()
    assert count_words.delay(note["id"]).get(timeout=60) == 3
    assert count_words.delay(2_000_000_000).get(timeout=60) is None  # deleted notes are fine


def probe(tmpdir: Path) -> subprocess.CompletedProcess:
    """The exec probe's exact command, sharing the worker's temp directory as in the pod."""
    return subprocess.run(
        [sys.executable, "-m", "app.worker_liveness"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        timeout=30,
    )


def wait_until(what: str, condition: Callable[[], bool], worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert worker.poll() is None, "celery worker exited"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@contextmanager
def private_redis(port: int, data_dir: Path) -> Iterator[None]:
    """A broker of its own, so the test can take it away from the worker."""
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_liveness_follows_the_broker_connection(migrated: None, tmp_path: Path) -> None:
    port = free_port()
    heartbeat = tmp_path / "celery-worker-heartbeat"
    assert probe(tmp_path).returncode == 1  # no worker has connected yet
    with celery_worker(TMPDIR=str(tmp_path), REDIS_URL=f"redis://127.0.0.1:{port}/0") as worker:
        with private_redis(port, tmp_path):
            wait_until("the heartbeat once connected", heartbeat.exists, worker)
            alive = probe(tmp_path)
            assert alive.returncode == 0, alive.stderr
        # The broker is gone: the consumer loses its connection and the heartbeat goes with it.
        wait_until("the heartbeat to be removed", lambda: not heartbeat.exists(), worker)
        dead = probe(tmp_path)
        assert dead.returncode == 1
        assert "not connected to the broker" in dead.stderr
        with private_redis(port, tmp_path):
            wait_until("the heartbeat after reconnecting", heartbeat.exists, worker)
            assert probe(tmp_path).returncode == 0
            worker.terminate()  # warm shutdown while connected
            assert worker.wait(timeout=30) == 0
        assert not heartbeat.exists()


def test_a_stale_heartbeat_fails_the_probe(tmp_path: Path) -> None:
    heartbeat = tmp_path / "celery-worker-heartbeat"
    heartbeat.touch()
    mtime = heartbeat.stat().st_mtime
    assert problem(heartbeat, now=mtime + MAX_AGE_SECONDS) is None
    stale = problem(heartbeat, now=mtime + MAX_AGE_SECONDS + 1)
    assert stale is not None
    assert "the worker's consumer has stopped" in stale
    os.utime(heartbeat, (mtime - 3600, mtime - 3600))
    result = probe(tmp_path)
    assert result.returncode == 1
    assert "old (limit" in result.stderr


def test_time_limits_and_visibility_timeout_come_from_settings() -> None:
    from app.celery import celery_app

    conf = celery_app.conf
    assert (conf.task_time_limit, conf.task_soft_time_limit) == (60, 50)
    assert conf.broker_transport_options["visibility_timeout"] == 300 > conf.task_time_limit
