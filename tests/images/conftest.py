"""Session-wide parts: the docker daemon (and the removal of every container the run started), the
inputs scripts/test-images hands over (base image, CA bundle, loopback Postgres and Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from support import LABEL, RUN_ID, Loopback, remove, required_env


@pytest.fixture(scope="session")
def client() -> Iterator[docker.DockerClient]:
    # Saving, pushing and pulling an app image (over 200 MB) can outlast the SDK's 60 s default on a busy machine.
    client = docker.from_env(timeout=300)
    yield client
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={RUN_ID}"}):
        remove(container)
    client.close()


@pytest.fixture(scope="session")
def base_image() -> str:
    """testbed/base-image's Debian base, the BASE_IMAGE of every image built here."""
    return required_env("BASE_IMAGE")


@pytest.fixture(scope="session")
def ca_file() -> Path:
    """The CA bundle passed to the builds as the `ca` secret, which must end up in no layer."""
    return Path(required_env("SSL_CERT_FILE"))


@pytest.fixture(scope="session")
def loopback() -> Loopback:
    return Loopback.from_env()
