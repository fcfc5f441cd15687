"""The dev stack's Postgres and Redis images (images/, built and pushed by testbed/service-images), each
run read-only as its StatefulSet runs it: its own uid, the pod's writable paths as tmpfs or volumes."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import docker
import psycopg
import pytest
import redis
from docker.models.containers import Container

from support import REGISTRY, REPO_ROOT, exec_output, logs, port_free, remove, run, start, stop, wait_until

pytestmark = pytest.mark.services

# The containers share the host's network, so they move off the services' default ports.
PG_PORT = int(os.environ.get("TEST_SERVICE_PG_PORT", "55433"))
REDIS_PORT = int(os.environ.get("TEST_SERVICE_REDIS_PORT", "56380"))
PG_UID = 70
REDIS_UID = 999
SERVICES = ("postgres", "redis")


@dataclasses.dataclass(frozen=True)
class ServiceImages:
    first: dict[str, str]
    second: dict[str, str]
    second_log: str


def references(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines())


@pytest.fixture(scope="module")
def service_images() -> ServiceImages:
    """testbed/service-images run twice: the first builds and pushes what changed, the second must not."""
    script = str(REPO_ROOT / "testbed" / "service-images")
    first = run([script])
    second = run([script])
    return ServiceImages(references(first.stdout), references(second.stdout), second.stderr)


@pytest.mark.parametrize("service", SERVICES)
def test_service_images_prints_a_digest_pinned_reference(service_images: ServiceImages, service: str) -> None:
    assert service_images.first[service].startswith(f"{REGISTRY}/api-stack/{service}@sha256:")


def test_service_images_again_prints_the_same_references(service_images: ServiceImages) -> None:
    assert service_images.second == service_images.first


def test_service_images_again_builds_nothing(service_images: ServiceImages) -> None:
    assert "building" not in service_images.second_log


def volume(root: Path, gid: int) -> Path:
    """A directory standing in for the pod's volume: root-owned with the fsGroup's group write access
    (what the kubelet makes of it), holding lost+found like a freshly formatted filesystem."""
    root.joinpath("lost+found").mkdir(mode=0o700)
    shutil.chown(root, "root", gid)
    root.chmod(0o2770)
    return root


@dataclasses.dataclass(frozen=True)
class Postgres:
    image: str
    volume: Path
    password: str
    environment: dict[str, str]

    def url(self) -> str:
        return f"postgresql://app:{quote(self.password, safe='')}@127.0.0.1:{PG_PORT}/app"

    def connect(self, password: str | None = None) -> psycopg.Connection:
        password = self.password if password is None else password
        return psycopg.connect(host="127.0.0.1", port=PG_PORT, user="app", dbname="app", password=password)


def run_postgres(client: docker.DockerClient, postgres: Postgres) -> Container:
    """As the StatefulSet runs it: uid/gid 70, read-only root, the volume at the data path with PGDATA
    below it, tmpfs (owned by the uid, as the emptyDirs are through fsGroup) for the socket directory and
    /tmp, then ready by its readiness probe."""
    tmpfs = dict.fromkeys(["/var/run/postgresql", "/tmp"], f"rw,uid={PG_UID},gid={PG_UID},mode=0770")  # noqa: S108
    container = start(
        client,
        postgres.image,
        ["-c", f"port={PG_PORT}"],
        user=f"{PG_UID}:{PG_UID}",
        read_only=True,
        tmpfs=tmpfs,
        volumes={str(postgres.volume): {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
        environment=postgres.environment,
    )
    probe = ["pg_isready", "-U", "app", "-d", "app", "-h", "127.0.0.1", "-p", str(PG_PORT)]
    assert wait_until(lambda: exec_output(container, probe)[0] == 0, 60), f"never ready:\n{logs(container)}"
    return container


@pytest.fixture(scope="module")
def postgres_config(service_images: ServiceImages, tmp_path_factory: pytest.TempPathFactory) -> Postgres:
    assert port_free(PG_PORT), f"127.0.0.1:{PG_PORT} is in use (set TEST_SERVICE_PG_PORT)"
    password = f"pw with 'quotes' and spaces {secrets.token_urlsafe(24)}"
    environment = {
        "POSTGRES_USER": "app",
        "POSTGRES_DB": "app",
        "POSTGRES_PASSWORD": password,
        "PGDATA": "/var/lib/postgresql/data/pgdata",
    }
    data = volume(tmp_path_factory.mktemp("postgres-volume"), PG_UID)
    return Postgres(service_images.first["postgres"], data, password, environment)


@pytest.fixture(scope="module")
def postgres(client: docker.DockerClient, postgres_config: Postgres) -> Iterator[Container]:
    container = run_postgres(client, postgres_config)
    yield container
    remove(container)


def test_postgres_runs_as_pid_1(postgres: Container) -> None:
    assert exec_output(postgres, ["cat", "/proc/1/comm"]) == (0, "postgres")


def test_postgres_initialises_a_volume_holding_lost_and_found(postgres: Container, postgres_config: Postgres) -> None:
    assert (postgres_config.volume / "pgdata" / "PG_VERSION").is_file()
    assert (postgres_config.volume / "lost+found").is_dir()


def test_postgres_accepts_the_password_login(postgres: Container, postgres_config: Postgres) -> None:
    with postgres_config.connect() as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("app",)


def test_postgres_refuses_a_wrong_password(postgres: Container, postgres_config: Postgres) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        postgres_config.connect(password="wrong")


@dataclasses.dataclass(frozen=True)
class Restart:
    exit_code: int
    kept: object


@pytest.fixture(scope="module")
def postgres_restart(client: docker.DockerClient, postgres: Container, postgres_config: Postgres) -> Iterator[Restart]:
    """A row written, the container stopped (SIGINT, its STOPSIGNAL) and a new one started on the volume."""
    with postgres_config.connect() as connection:
        connection.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('across restarts')")
    exit_code = stop(postgres)
    remove(postgres)
    again = run_postgres(client, postgres_config)
    with postgres_config.connect() as connection:
        kept = connection.execute("SELECT v FROM kept").fetchone()
    yield Restart(exit_code, kept)
    remove(again)


def test_postgres_exits_0_when_stopped(postgres_restart: Restart) -> None:
    assert postgres_restart.exit_code == 0


def test_postgres_keeps_its_data_over_a_restart(postgres_restart: Restart) -> None:
    assert postgres_restart.kept == ("across restarts",)


@dataclasses.dataclass(frozen=True)
class Backup:
    dump_exit_code: int
    dump_output: str = dataclasses.field(repr=False)
    restore_list: str


@pytest.fixture(scope="module")
def backup(
    client: docker.DockerClient,
    postgres_restart: Restart,
    postgres_config: Postgres,
    tmp_path_factory: pytest.TempPathFactory,
) -> Backup:
    """The backup Job's command as the pods' uid 10001, read-only, into a volume; then pg_restore --list."""
    backups = tmp_path_factory.mktemp("backups")
    backups.chmod(0o777)
    job = "\n".join(
        [
            'pg_dump --format=custom --no-owner --file="/backups/$BACKUP_FILE.partial" "$DATABASE_URL"',
            'mv "/backups/$BACKUP_FILE.partial" "/backups/$BACKUP_FILE"',
        ]
    )
    dump = start(
        client,
        postgres_config.image,
        ["sh", "-ec", job],
        user="10001:10001",
        read_only=True,
        tmpfs={"/tmp": ""},  # noqa: S108
        volumes={str(backups): {"bind": "/backups", "mode": "rw"}},
        environment={"DATABASE_URL": postgres_config.url(), "BACKUP_FILE": "test.dump"},
    )
    dump_exit_code = dump.wait(timeout=120)["StatusCode"]
    dump_output = logs(dump)
    remove(dump)
    restore = client.containers.run(
        postgres_config.image,
        ["pg_restore", "--list", "/backups/test.dump"],
        user="10001:10001",
        read_only=True,
        volumes={str(backups): {"bind": "/backups", "mode": "ro"}},
        remove=True,
    )
    return Backup(dump_exit_code, dump_output, restore.decode())


def test_backup_job_dumps_as_uid_10001(backup: Backup) -> None:
    assert backup.dump_exit_code == 0, backup.dump_output


def test_backup_dump_restores_the_table_data(backup: Backup) -> None:
    assert "TABLE DATA public kept" in backup.restore_list


@dataclasses.dataclass(frozen=True)
class Redis:
    image: str
    volume: Path


def run_redis(client: docker.DockerClient, config: Redis) -> Container:
    """As the StatefulSet runs it: uid/gid 999, read-only root, /data the volume, /tmp a tmpfs, and the
    StatefulSet's args (plus a port of its own), then ready by its readiness probe."""
    container = start(
        client,
        config.image,
        ["--save", "60", "1", "--appendonly", "no", "--port", str(REDIS_PORT)],
        user=f"{REDIS_UID}:{REDIS_UID}",
        read_only=True,
        tmpfs={"/tmp": ""},  # noqa: S108
        volumes={str(config.volume): {"bind": "/data", "mode": "rw"}},
    )
    probe = ["redis-cli", "-p", str(REDIS_PORT), "ping"]
    assert wait_until(lambda: exec_output(container, probe) == (0, "PONG"), 30), f"no PONG:\n{logs(container)}"
    return container


@pytest.fixture(scope="module")
def redis_config(service_images: ServiceImages, tmp_path_factory: pytest.TempPathFactory) -> Redis:
    assert port_free(REDIS_PORT), f"127.0.0.1:{REDIS_PORT} is in use (set TEST_SERVICE_REDIS_PORT)"
    return Redis(service_images.first["redis"], volume(tmp_path_factory.mktemp("redis-volume"), REDIS_UID))


@pytest.fixture(scope="module")
def redis_server(client: docker.DockerClient, redis_config: Redis) -> Iterator[Container]:
    container = run_redis(client, redis_config)
    yield container
    remove(container)


def test_redis_answers_ping(redis_server: Container) -> None:
    assert redis.Redis(port=REDIS_PORT).ping()


@pytest.fixture(scope="module")
def redis_restart(client: docker.DockerClient, redis_server: Container, redis_config: Redis) -> Iterator[Restart]:
    """A value set, the container stopped (SIGTERM: with --save on, Redis saves before it exits) and a
    new one started on the volume."""
    assert redis.Redis(port=REDIS_PORT).set("kept", "across restarts")
    exit_code = stop(redis_server)
    remove(redis_server)
    again = run_redis(client, redis_config)
    yield Restart(exit_code, redis.Redis(port=REDIS_PORT).get("kept"))
    remove(again)


def test_redis_exits_0_when_stopped(redis_restart: Restart) -> None:
    assert redis_restart.exit_code == 0


def test_redis_keeps_a_value_over_a_restart_with_save(redis_restart: Restart) -> None:
    assert redis_restart.kept == b"across restarts"
