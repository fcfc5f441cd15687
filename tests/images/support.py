"""What the image tests share: the docker daemon, containers started the way their pods run, HTTP and
metrics reads, waits, and the loopback Postgres and Redis that scripts/test-images starts for the apps."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import requests
from docker.models.containers import Container
from prometheus_client.parser import text_string_to_metric_families

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "127.0.0.1:5000"
# Debian's CLI: it drives dockerd's built-in BuildKit, which the Dockerfiles' secret and cache mounts
# need and the docker SDK cannot (it speaks only the classic builder API). Everything else uses the SDK.
DOCKER_CLI = "/usr/bin/docker"
# Every container the suite starts carries this label with the run's id, so that whatever a failed
# test leaves behind is removed at the end of the run, and nothing of another run is touched.
LABEL = "api-stack.image-test"
RUN_ID = str(os.getpid())
# The pods' securityContext: runAsUser/runAsGroup, and the emptyDir at /tmp.
POD_USER = "10001:10001"
POD_TMPFS = {"/tmp": "rw,nosuid,nodev,size=64m"}  # noqa: S108 - the container's /tmp, not the host's
HTTP_TIMEOUT = 30


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set; run the suite through scripts/test-images, which sets it")
    return value


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Runs COMMAND to completion; a failure names the command and shows the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 1.0) -> bool:
    """Polls CONDITION until it holds (True) or TIMEOUT seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def get(url: str, **kwargs) -> requests.Response:
    # A new connection per request (no session), as separate clients would open.
    return requests.get(url, timeout=HTTP_TIMEOUT, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return requests.post(url, timeout=HTTP_TIMEOUT, **kwargs)


def answers(url: str, status: int) -> bool:
    """Whether URL answers STATUS now; a refused or dropped connection is a no."""
    try:
        return get(url).status_code == status
    except requests.ConnectionError:
        return False


def metric(metrics_url: str, name: str, **labels: str) -> float | None:
    """The value of the sample NAME{LABELS} (exactly those labels) on METRICS_URL, None when absent."""
    families = text_string_to_metric_families(get(metrics_url).text)
    return next((s.value for f in families for s in f.samples if s.name == name and s.labels == labels), None)


def start(client: docker.DockerClient, image: str, command: list[str] | None = None, **kwargs) -> Container:
    """Starts a detached container of this run on the host's network (Postgres and Redis for the apps
    listen on loopback, and the tests reach every container there)."""
    return client.containers.run(image, command, detach=True, network_mode="host", labels={LABEL: RUN_ID}, **kwargs)


def start_restricted(client: docker.DockerClient, image: str, command: list[str] | None = None, **kwargs) -> Container:
    """As the apps' pods run: the pods' runAsUser (10001, not the image's default user, since that is what
    the cluster runs), a read-only root and a writable /tmp only."""
    return start(client, image, command, user=POD_USER, read_only=True, tmpfs=POD_TMPFS, **kwargs)


def finish(container: Container, timeout: float) -> int | None:
    """The container's exit code once it has stopped, None if it is still running after TIMEOUT seconds."""
    try:
        return container.wait(timeout=timeout)["StatusCode"]
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):  # how the SDK times out
        return None


def stop(container: Container, timeout: int = 30) -> int:
    """Stops the container as the kubelet would (its stop signal, then SIGKILL after TIMEOUT seconds) and
    returns its exit code."""
    container.stop(timeout=timeout)
    container.reload()
    return container.attrs["State"]["ExitCode"]


def remove(container: Container) -> None:
    """Removes the container whatever its state; one another step already removed is fine."""
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


def logs(container: Container) -> str:
    return container.logs(tail=50).decode(errors="replace")


def exec_output(container: Container, command: list[str]) -> tuple[int, str]:
    """Runs COMMAND inside the container as its user, like an exec probe: (exit code, output)."""
    code, output = container.exec_run(command)
    return code, output.decode(errors="replace").strip()


def running(container: Container) -> bool:
    container.reload()
    return container.status == "running"


def health(container: Container) -> str:
    container.reload()
    return container.attrs["State"].get("Health", {}).get("Status", "none")


def build(app: str, base_image: str, ca_file: Path, tag: str) -> None:
    """The app's Dockerfile with BuildKit, the locally built base and the CA bundle as the `ca` secret."""
    command = [DOCKER_CLI, "build", "--quiet", "--build-arg", f"BASE_IMAGE={base_image}"]
    command += ["--secret", f"id=ca,src={ca_file}", "--target", "runtime", "-t", tag, str(REPO_ROOT / "apps" / app)]
    run(command, env={**os.environ, "DOCKER_BUILDKIT": "1"})


@dataclasses.dataclass
class SecretScan:
    layers: int
    findings: list[str]


def scan_for_secret(saved_image: Path, secret: bytes) -> SecretScan:
    """Looks for SECRET in every layer of a `docker save` archive: a path under /run/secrets (where
    BuildKit mounts it) or a file with the same bytes anywhere, including files added then deleted."""
    secret_hash = hashlib.sha256(secret).hexdigest()
    scan = SecretScan(layers=0, findings=[])
    with tarfile.open(saved_image) as archive:
        # The archive's manifest.json names the image's layers, whichever layout the daemon writes.
        (manifest,) = json.load(archive.extractfile("manifest.json"))
        for path in manifest["Layers"]:
            with tarfile.open(fileobj=archive.extractfile(path)) as layer:
                scan.layers += 1
                for entry in layer:
                    name = entry.name.lstrip("./")
                    if name.startswith("run/secrets/"):
                        scan.findings.append(f"secret mount path in a layer: {name}")
                    same_size = entry.isfile() and entry.size == len(secret)
                    if same_size and hashlib.sha256(layer.extractfile(entry).read()).hexdigest() == secret_hash:
                        scan.findings.append(f"CA bundle copied into a layer: {name}")
    return scan


def save(client: docker.DockerClient, tag: str, path: Path) -> Path:
    with path.open("wb") as archive:
        for chunk in client.images.get(tag).save(named=True):
            archive.write(chunk)
    return path


def registry_blob(repository: str, reference: str, kind: str = "blobs") -> tuple[str, int, bytes]:
    """Fetches a manifest or blob from the loopback registry by digest: (its sha256, its size, the body
    when it is a manifest; blobs are hashed as they stream, never held in memory)."""
    accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
    url = f"http://{REGISTRY}/v2/{repository}/{kind}/{reference}"
    with requests.get(url, headers={"Accept": accept}, stream=True, timeout=60) as response:
        response.raise_for_status()
        digest, size, body = hashlib.sha256(), 0, io.BytesIO()
        for chunk in response.iter_content(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if kind == "manifests":
                body.write(chunk)
    return f"sha256:{digest.hexdigest()}", size, body.getvalue()


@dataclasses.dataclass(frozen=True)
class Loopback:
    """The apps' Postgres and Redis: Debian's binaries on loopback, started by scripts/test-apps'
    start_services (one definition for both suites). The tests stop and start them under running
    containers with that script's own functions."""

    services_dir: str
    redis_url: str
    database_urls: dict[str, str]

    @classmethod
    def from_env(cls) -> Loopback:
        urls = {app: required_env(f"TEST_DATABASE_URL_{app.upper()}") for app in ("fastapi", "django")}
        return cls(required_env("SERVICES_DIR"), required_env("TEST_REDIS_URL"), urls)

    def control(self, action: str) -> None:
        """Runs one of scripts/test-apps' functions: pg_stop, pg_start, stop_redis or start_redis."""
        script = 'source "$1" && SERVICES_DIR=$2 && "$3"'
        test_apps = str(REPO_ROOT / "scripts" / "test-apps")
        subprocess.run(["bash", "-c", script, "bash", test_apps, self.services_dir, action], check=True)  # noqa: S607
