"""The word-count task, run by a real Celery worker process through the real Redis broker."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.worker_health import ALIVE_MAX_AGE_SECONDS

from .conftest import APP_DIR, REDIS_URL
from .helpers import free_port


@contextmanager
def celery_worker(pool: str = "solo", **env_overrides: str) -> Iterator[subprocess.Popen]:
    # Same command as the Kubernetes worker Deployment, with a single solo process unless the test
    # needs the prefork pool; its metrics on a port of its own, as the pod's.
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
            pool,
            *(["--concurrency", "2"] if pool == "prefork" else []),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=APP_DIR,
        env={**os.environ, "METRICS_PORT": str(free_port()), **env_overrides},
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


def probe(kind: str, tmpdir: Path, **env: str) -> subprocess.CompletedProcess:
    """An exec probe's exact command (python -m app.worker_liveness or app.worker_readiness),
    sharing the worker's temp directory as in the pod."""
    return subprocess.run(
        [sys.executable, "-m", f"app.worker_{kind}"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir), **env},
        timeout=30,
    )


def backdate(path: Path, seconds: float) -> None:
    """As if PATH had last been touched SECONDS ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


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


def test_readiness_follows_the_broker_connection_and_liveness_outlasts_an_outage(
    migrated: None, tmp_path: Path
) -> None:
    port = free_port()
    broker = {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    heartbeat, consuming = tmp_path / "celery-worker-heartbeat", tmp_path / "celery-worker-consuming"
    consuming.touch()  # left in the pod's /tmp by a worker that was killed: it must not count
    with celery_worker(TMPDIR=str(tmp_path), **broker) as worker:
        wait_until("the worker's start", lambda: heartbeat.exists() and not consuming.exists(), worker)
        waiting = probe("readiness", tmp_path, **broker)
        assert waiting.returncode == 1
        assert "not connected to the broker and consuming" in waiting.stderr
        with private_redis(port, tmp_path):
            wait_until("the consumer to connect", consuming.exists, worker)
            assert probe("readiness", tmp_path, **broker).returncode == 0
            assert probe("liveness", tmp_path, **broker).returncode == 0
        # The broker is gone: the consumer loses its connection, and with it readiness.
        wait_until("the mark to be removed", lambda: not consuming.exists(), worker)
        assert probe("readiness", tmp_path, **broker).returncode == 1
        # However long the outage, a worker waiting for a broker that does not answer is alive.
        backdate(heartbeat, ALIVE_MAX_AGE_SECONDS + 60)
        alive = probe("liveness", tmp_path, **broker)
        assert alive.returncode == 0, alive.stderr
        with private_redis(port, tmp_path):
            wait_until("the consumer to reconnect", consuming.exists, worker)
            assert probe("readiness", tmp_path, **broker).returncode == 0
            assert probe("liveness", tmp_path, **broker).returncode == 0
            worker.terminate()  # warm shutdown while connected
            assert worker.wait(timeout=30) == 0
        assert not consuming.exists()


def test_liveness_fails_when_the_worker_stops_making_progress(migrated: None, tmp_path: Path) -> None:
    heartbeat, consuming = tmp_path / "celery-worker-heartbeat", tmp_path / "celery-worker-consuming"
    with celery_worker(TMPDIR=str(tmp_path)) as worker:  # on the suite's Redis, which stays up
        wait_until("the consumer to connect", consuming.exists, worker)
        worker.send_signal(signal.SIGSTOP)  # a hung worker: its loop makes no progress
        try:
            backdate(heartbeat, ALIVE_MAX_AGE_SECONDS + 1)  # as if the minute had passed
            stuck = probe("liveness", tmp_path)
            not_ready = probe("readiness", tmp_path)
        finally:
            worker.send_signal(signal.SIGCONT)
        assert stuck.returncode == 1
        assert f"no heartbeat for {ALIVE_MAX_AGE_SECONDS + 1}s" in stuck.stderr
        assert "while the broker answers" in stuck.stderr
        assert not_ready.returncode == 1
        assert "the worker's consumer has stopped" in not_ready.stderr
        # Running again, the consumer's timer touches the heartbeat within its interval.
        wait_until("a fresh heartbeat", lambda: time.time() - heartbeat.stat().st_mtime < 30, worker)
        assert probe("liveness", tmp_path).returncode == 0


def test_liveness_without_a_heartbeat_asks_the_broker(tmp_path: Path) -> None:
    # No worker has started: not alive (yet) if the broker answers, waiting for it if it does not.
    unstarted = probe("liveness", tmp_path)
    assert unstarted.returncode == 1
    assert "no heartbeat yet while the broker answers: the worker has not started" in unstarted.stderr
    assert probe("liveness", tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").returncode == 0


def test_time_limits_and_visibility_timeout_come_from_settings() -> None:
    from app.celery import celery_app

    conf = celery_app.conf
    assert (conf.task_time_limit, conf.task_soft_time_limit) == (60, 50)
    assert conf.broker_transport_options["visibility_timeout"] == 300 > conf.task_time_limit


def test_the_worker_counts_tasks_of_its_pool_processes_and_reads_its_queues_on_its_metrics_port(
    client: TestClient, tmp_path: Path
) -> None:
    from app.celery import count_words

    port = free_port()
    metrics = f"http://127.0.0.1:{port}/metrics"
    env = {"TMPDIR": str(tmp_path), "METRICS_PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    with celery_worker("prefork", **env) as worker:
        wait_until("the queue's length", lambda: 'celery_queue_length{queue="celery"}' in scrape(metrics), worker)
        note = client.post("/notes", json={"title": "counted in a pool process"}).json()
        assert count_words.delay(note["id"]).get(timeout=60) == 5
        # The note's own task and this one, each counted by the child that ran it.
        wait_until("two counted tasks", lambda: succeeded(scrape(metrics)) >= 2, worker)


def scrape(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return ""


def succeeded(text: str) -> float:
    """The count of successful word counts in the exposition TEXT (the multiprocess collector sorts the labels)."""
    match = re.search(r'^celery_tasks_total\{state="success",task="notes\.count_words"\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def test_queue_lengths_come_from_the_broker_and_none_are_told_without_it() -> None:
    from kombu import Connection

    from app.worker_metrics import QueueLengths

    queue, missing = f"test-lengths-{os.getpid()}", f"test-missing-{os.getpid()}"
    with Connection(REDIS_URL) as conn:
        waiting = conn.SimpleQueue(queue)
        try:
            for number in range(3):
                waiting.put({"number": number})
            lengths = QueueLengths()
            lengths.read(Connection(REDIS_URL), [queue, missing])
            [gauge] = lengths.collect()
            assert {s.labels["queue"]: s.value for s in gauge.samples} == {queue: 3.0, missing: 0.0}
        finally:
            waiting.clear()
            waiting.close()
    unreachable = QueueLengths()
    unreachable.read(Connection(f"redis://127.0.0.1:{free_port()}/0"), [queue])
    assert next(iter(unreachable.collect())).samples == []
