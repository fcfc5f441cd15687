"""The word-count task, run by a real Celery worker process through the real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .conftest import APP_DIR


@pytest.fixture
def worker(migrated: None) -> Iterator[subprocess.Popen]:
    # Same command as the Kubernetes worker Deployment, with a single solo process for the test.
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app.celery", "worker", "-l", "info", "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@%h"],
        cwd=APP_DIR, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
