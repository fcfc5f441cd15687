"""Each app's image, built with BuildKit (the local Debian base as BASE_IMAGE, the CA bundle as the `ca`
build secret) and run the way its pods run it: the pods' uid 10001, a read-only root, a /tmp tmpfs,
settings in the environment and secrets as files in a read-only volume, against real Postgres and
Redis on loopback, which the tests really stop and start under it.

Pytest runs every test of one app before the next app's (the app is a module-scoped parameter), in the
order of this file; a scenario that disturbs the app (an outage, SIGTERM, a release) runs once in a
module-scoped fixture that records what it saw, and the tests after it assert on that record."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import docker
import psycopg
import pytest
import requests
from docker.models.containers import Container

from support import (
    LABEL,
    REGISTRY,
    RUN_ID,
    Loopback,
    answers,
    build,
    exec_output,
    finish,
    get,
    health,
    logs,
    metric,
    port_free,
    post,
    registry_blob,
    remove,
    running,
    save,
    scan_for_secret,
    start_restricted,
    wait_until,
)

APP_URL = "http://127.0.0.1:8000"
METRICS_URL = "http://127.0.0.1:9000/metrics"
WORKER_METRICS_PORT = 9001
GRACE_SECONDS = 20  # gunicorn's graceful_timeout in both apps
OLD_KEY = secrets.token_urlsafe(48)
NEW_KEY = secrets.token_urlsafe(48)
API_TOKEN = secrets.token_urlsafe(32)
# Every /notes endpoint but the share link needs one of API_TOKENS.
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
# Where the pods mount the Secret: SECRETS_DIR's default.
SECRETS_DIR = "/run/secrets/app"
# A proxy that says the client used https; believed only from a peer in FORWARDED_ALLOW_IPS.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
ROUTES = {"fastapi": "/notes/{note_id}", "django": "/notes/<int:pk>"}
MIGRATE = {"fastapi": ["alembic", "upgrade", "head"], "django": ["python", "manage.py", "migrate", "--noinput"]}
APPS = {name: pytest.param(name, marks=getattr(pytest.mark, name)) for name in ROUTES}


def only(name: str) -> pytest.MarkDecorator:
    """For what one app alone has: its case of the module's `app` parameter."""
    return pytest.mark.parametrize("app", [APPS[name]], indirect=True)


@pytest.fixture(scope="module", params=APPS.values())
def app(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def image(app: str, base_image: str, ca_file: Path) -> str:
    tag = f"api-stack/{app}:test"
    build(app, base_image, ca_file, tag)
    return tag


@pytest.fixture(scope="module")
def settings(app: str) -> dict[str, str]:
    """The platform's ConfigMap for the pods, production settings throughout."""
    return {
        "ENVIRONMENT": "production",
        "APP_NAME": f"{app}-image-test",
        "APP_VERSION": f"test-{RUN_ID}",
        "DEBUG": "false",
        "CORS_ORIGINS": "https://app.example.com",
        "DB_POOL_SIZE": "2",
        "DB_MAX_OVERFLOW": "2",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "30",
        "REFRESH_TOKEN_EXPIRE_DAYS": "7",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "WEB_CONCURRENCY": "2",
        "ALLOWED_HOSTS": "127.0.0.1,api.example.com",
    }


@pytest.fixture(scope="module")
def secret(app: str, loopback: Loopback) -> dict[str, str]:
    """The platform's Secret for the pods."""
    return {
        "DATABASE_URL": loopback.database_urls[app],
        "REDIS_URL": loopback.redis_url,
        "SECRET_KEY": OLD_KEY,
        "SECRET_KEY_FALLBACKS": "",
        "SENTRY_DSN": "",
        "API_TOKENS": f"{secrets.token_urlsafe(32)},{API_TOKEN}",
    }


def pod(settings: dict[str, str], secret: dict[str, str], directory: Path) -> dict[str, object]:
    """The container options for what the pods get: the ConfigMap as environment variables, the Secret
    as one file per key (readable by the pods' user) in a read-only volume, as the kubelet mounts it."""
    for name, value in secret.items():
        directory.joinpath(name).write_text(value)
        directory.joinpath(name).chmod(0o644)
    directory.chmod(0o755)
    return {"environment": settings, "volumes": {str(directory): {"bind": SECRETS_DIR, "mode": "ro"}}}


@pytest.fixture(scope="module")
def options(settings: dict[str, str], secret: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict:
    return pod(settings, secret, tmp_path_factory.mktemp("secret"))


def test_image_runs_as_uid_1000_by_default(client: docker.DockerClient, image: str) -> None:
    assert client.images.get(image).attrs["Config"]["User"] == "1000:1000"


@pytest.mark.parametrize("port", ["8000/tcp", "9000/tcp"])
def test_image_exposes_the_app_and_metrics_ports(client: docker.DockerClient, image: str, port: str) -> None:
    assert port in client.images.get(image).attrs["Config"]["ExposedPorts"]


def test_image_healthcheck_is_written_in_python(client: docker.DockerClient, image: str) -> None:
    # Slim images have no curl.
    check = " ".join(client.images.get(image).attrs["Config"]["Healthcheck"]["Test"])
    assert "python" in check
    assert "curl" not in check


def test_ca_build_secret_is_in_no_layer(
    client: docker.DockerClient, image: str, ca_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    saved = save(client, image, tmp_path_factory.mktemp("save") / "image.tar")
    scan = scan_for_secret(saved, ca_file.read_bytes())
    saved.unlink()
    assert scan.layers > 0, "no layers found in the saved image"
    assert scan.findings == []


def test_ca_scan_finds_a_bundle_copied_then_deleted(
    client: docker.DockerClient, image: str, ca_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The scan above passes only if it would have failed: here the bundle sits in a layer on top of
    # the image, removed by the next one, as a careless Dockerfile would leave it.
    context = tmp_path_factory.mktemp("leaky")
    context.joinpath("ca.pem").write_bytes(ca_file.read_bytes())
    context.joinpath("Dockerfile").write_text(f"FROM {image}\nUSER root\nCOPY ca.pem /app/\nRUN rm /app/ca.pem\n")
    leaky, _ = client.images.build(path=str(context), tag=f"api-stack/leaky:{RUN_ID}", rm=True)
    saved = save(client, leaky.tags[0], context / "image.tar")
    scan = scan_for_secret(saved, ca_file.read_bytes())
    client.images.remove(leaky.id)
    assert "CA bundle copied into a layer: app/ca.pem" in scan.findings


@dataclasses.dataclass(frozen=True)
class Migrations:
    exit_code: int
    output: str = dataclasses.field(repr=False)


@pytest.fixture(scope="module")
def migrations(client: docker.DockerClient, app: str, image: str, options: dict) -> Migrations:
    """The migration Job's command, under the same restrictions as the app."""
    job = start_restricted(client, image, MIGRATE[app], **options)
    exit_code = job.wait(timeout=300)["StatusCode"]
    output = logs(job)
    remove(job)
    return Migrations(exit_code, output)


def test_migrations_create_the_schema_read_only_as_uid_10001(
    migrations: Migrations, app: str, loopback: Loopback
) -> None:
    assert migrations.exit_code == 0, migrations.output
    with psycopg.connect(loopback.database_urls[app]) as connection:
        assert connection.execute("SELECT to_regclass('notes') IS NOT NULL").fetchone() == (True,)


def start_api(client: docker.DockerClient, image: str, options: dict, name: str) -> Container:
    """Starts gunicorn on ports 8000 and 9000 and waits until it serves /health/live."""
    for port in (8000, 9000):
        assert port_free(port), f"127.0.0.1:{port} is in use; the image tests need it"
    container = start_restricted(client, image, name=name, **options)
    wait_until(lambda: answers(f"{APP_URL}/health/live", 200) or not running(container), 90)
    assert answers(f"{APP_URL}/health/live", 200), f"{name} does not serve:\n{logs(container)}"
    return container


@pytest.fixture(scope="module")
def api(
    client: docker.DockerClient, app: str, image: str, options: dict, migrations: Migrations
) -> Iterator[Container]:
    assert migrations.exit_code == 0, "the migrations failed; see the migrations test"
    container = start_api(client, image, options, f"api-stack-image-test-{app}-{RUN_ID}")
    yield container
    remove(container)


def test_container_runs_as_uid_and_gid_10001(api: Container) -> None:
    assert exec_output(api, ["id", "-u"]) == (0, "10001")
    assert exec_output(api, ["id", "-g"]) == (0, "10001")


def test_container_root_filesystem_is_read_only(api: Container) -> None:
    code, output = exec_output(api, ["touch", "/app/written"])
    assert code != 0
    assert "Read-only file system" in output


def test_container_tmp_is_a_writable_tmpfs(api: Container) -> None:
    assert exec_output(api, ["touch", "/tmp/written"])[0] == 0  # noqa: S108
    assert exec_output(api, ["stat", "-f", "-c", "%T", "/tmp"]) == (0, "tmpfs")  # noqa: S108


def test_healthcheck_reaches_healthy(api: Container) -> None:
    # The image's HEALTHCHECK runs every 10 s after a 20 s start period.
    assert wait_until(lambda: health(api) == "healthy", 90), f"health: {health(api)}\n{logs(api)}"


def test_readiness_checks_postgres_only(api: Container) -> None:
    response = get(f"{APP_URL}/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok"}}


def create_note(title: str, body: str = "") -> int:
    response = post(f"{APP_URL}/notes", json={"title": title, "body": body}, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_notes_are_stored_and_read_back(api: Container) -> None:
    note = create_note("from the image test", "four words right here")
    assert get(f"{APP_URL}/notes/{note}", headers=AUTH).json()["title"] == "from the image test"
    assert get(f"{APP_URL}/notes/999000", headers=AUTH).status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer not-one-of-the-tokens"])
def test_notes_refuse_a_request_without_a_valid_token(api: Container, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = get(f"{APP_URL}/notes?limit=1", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_metrics_are_not_served_on_the_app_port(api: Container) -> None:
    assert get(f"{APP_URL}/metrics").status_code == 404


def test_metrics_port_serves_nothing_but_metrics(api: Container) -> None:
    assert get(METRICS_URL.removesuffix("metrics")).status_code == 404


def reaches(want: float, seconds: float, name: str, **labels: str) -> bool:
    """Whether the sample NAME{LABELS} on the metrics port reads WANT within SECONDS."""
    return wait_until(lambda: metric(METRICS_URL, name, **labels) == want, seconds, interval=0.5)


def test_metrics_count_every_request_over_both_workers(api: Container, app: str) -> None:
    # 20 requests over separate connections spread over the two gunicorn workers (WEB_CONCURRENCY=2);
    # the master's /metrics must count all of them however they landed.
    labels = {"method": "GET", "route": ROUTES[app], "status": "404"}
    before = metric(METRICS_URL, "http_requests_total", **labels) or 0.0
    for missing in range(999001, 999021):
        assert get(f"{APP_URL}/notes/{missing}", headers=AUTH).status_code == 404
    # A worker counts a request once its response is sent: the last ones may take a moment.
    counted = reaches(before + 20, 5, "http_requests_total", **labels)
    assert counted, f"{metric(METRICS_URL, 'http_requests_total', **labels)} counted, {before + 20} expected"


def test_metrics_label_requests_by_route_template(api: Container, app: str) -> None:
    note = create_note("labelled by its route")
    labels = {"method": "GET", "route": ROUTES[app], "status": "200"}
    before = metric(METRICS_URL, "http_requests_total", **labels) or 0.0
    assert get(f"{APP_URL}/notes/{note}", headers=AUTH).status_code == 200
    assert reaches(before + 1, 5, "http_requests_total", **labels)


def test_metrics_record_latency_by_route_and_status(api: Container) -> None:
    labels = {"method": "POST", "route": "/notes", "status": "201"}
    before = metric(METRICS_URL, "http_request_duration_seconds_count", **labels) or 0.0
    create_note("timed")
    assert reaches(before + 1, 5, "http_request_duration_seconds_count", **labels)


@pytest.mark.parametrize("dependency", ["postgres", "redis"])
def test_dependency_gauge_reports_up(api: Container, dependency: str) -> None:
    # The master checks every 15 s.
    assert reaches(1.0, 30, "dependency_up", dependency=dependency)


@pytest.fixture(scope="module")
def share_link(api: Container) -> requests.Response:
    """A share link asked for through a trusted proxy (the loopback, FORWARDED_ALLOW_IPS' default) that
    says the client used https. Opened again after the key rotation."""
    note = create_note("shared")
    return post(f"{APP_URL}/notes/{note}/share", headers={**AUTH, **PROXY_HEADERS})


def test_share_link_is_https_behind_a_trusted_proxy(share_link: requests.Response) -> None:
    assert share_link.status_code == 201, share_link.text
    assert share_link.json()["url"].startswith("https://127.0.0.1:8000/notes/shared/")


def opens(link: str) -> bool:
    """Whether the share link opens on the running app, without a token (its scheme and host are the
    proxy's to serve)."""
    return get(f"{APP_URL}{urlsplit(link).path}").status_code == 200


def test_share_link_opens_without_a_token(share_link: requests.Response) -> None:
    assert opens(share_link.json()["url"])


def test_access_log_redacts_the_share_token(api: Container, share_link: requests.Response) -> None:
    # Whoever reads the logs must not be able to open the notes shared.
    token = urlsplit(share_link.json()["url"]).path.rpartition("/")[2]
    assert opens(share_link.json()["url"])
    log = logs(api)
    assert "/notes/shared/[redacted]" in log
    assert token not in log


@only("django")
def test_static_files_are_served_from_the_read_only_image(api: Container) -> None:
    # Collected at build time, served by WhiteNoise.
    response = get(f"{APP_URL}/static/admin/css/base.css")
    assert response.status_code == 200
    assert "body" in response.text


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        ("evil.example.net", "/notes?limit=1", 400),
        # The probes address the pod IP: exempt from ALLOWED_HOSTS, but nothing else is.
        ("10.1.2.3:8000", "/notes?limit=1", 400),
        ("10.1.2.3:8000", "/health/ready", 200),
        ("api.example.com", "/notes?limit=1", 200),
    ],
)
@only("django")
def test_allowed_hosts_are_enforced_except_for_probes(api: Container, host: str, path: str, status: int) -> None:
    assert get(f"{APP_URL}{path}", headers={"Host": host, **AUTH}).status_code == status


@pytest.fixture(scope="module")
def worker(client: docker.DockerClient, image: str, options: dict, migrations: Migrations) -> Iterator[Container]:
    """The worker Deployment's exact command, under the same restrictions as the web container."""
    command = ["celery", "-A", "app.celery", "worker", "-l", "info", "--concurrency", "1"]
    name = f"api-stack-image-test-worker-{RUN_ID}"
    # Its /metrics on a port of its own: on the host network the web container has METRICS_PORT.
    metrics = {**options, "environment": {**options["environment"], "METRICS_PORT": str(WORKER_METRICS_PORT)}}
    container = start_restricted(client, image, command, name=name, **metrics)
    yield container
    remove(container)


def passes(worker: Container, probe: str) -> bool:
    """Whether the worker Deployment's readiness or liveness probe passes now (docs/apps.md)."""
    return exec_output(worker, ["python", "-m", f"app.worker_{probe}"])[0] == 0


@only("fastapi")
def test_worker_counts_the_words_of_a_note_through_redis(api: Container, worker: Container) -> None:
    note = create_note("counted by celery", "in a read-only container")
    counted = wait_until(lambda: get(f"{APP_URL}/notes/{note}", headers=AUTH).json()["word_count"] == 8, 60)
    assert counted, f"no word count for note {note}:\n{logs(worker)}"


@only("fastapi")
def test_worker_serves_its_tasks_and_queue_lengths_on_its_metrics_port(api: Container, worker: Container) -> None:
    note = create_note("counted and measured", "by the worker")
    url = f"http://127.0.0.1:{WORKER_METRICS_PORT}/metrics"

    def counted() -> bool:
        try:
            text = get(url).text
        except requests.ConnectionError:  # not listening yet
            return False
        return 'celery_queue_length{queue="celery"}' in text and 'state="success",task="notes.count_words"' in text

    assert wait_until(counted, 60), f"the worker's metrics never counted the word count of note {note}:\n{logs(worker)}"


@only("fastapi")
@pytest.mark.parametrize("probe", ["readiness", "liveness"])
def test_worker_probe_passes(worker: Container, probe: str) -> None:
    assert wait_until(lambda: passes(worker, probe), 30), logs(worker)


@dataclasses.dataclass(frozen=True)
class RedisOutage:
    readiness: int
    note_saved: int
    gauge_down: bool
    worker_unready: bool | None
    worker_alive: bool | None
    gauge_up_again: bool
    worker_ready_again: bool | None


@pytest.fixture(scope="module")
def redis_outage(app: str, api: Container, loopback: Loopback, request: pytest.FixtureRequest) -> RedisOutage:
    """Redis really stopped, then started again. Redis carries fire-and-forget tasks only, so the app stays
    ready; the master's gauge and (FastAPI) the worker's readiness follow it, while the worker stays alive:
    restarting it would not bring the broker back."""
    worker = request.getfixturevalue("worker") if app == "fastapi" else None
    loopback.control("stop_redis")
    try:
        readiness = get(f"{APP_URL}/health/ready").status_code
        note_saved = post(f"{APP_URL}/notes", json={"title": "saved while redis is down"}, headers=AUTH).status_code
        gauge_down = reaches(0.0, 40, "dependency_up", dependency="redis")
        unready = wait_until(lambda: not passes(worker, "readiness"), 40) if worker else None
        alive = passes(worker, "liveness") if worker else None
    finally:
        loopback.control("start_redis")
    gauge_up = reaches(1.0, 40, "dependency_up", dependency="redis")
    ready_again = wait_until(lambda: passes(worker, "readiness"), 60) if worker else None
    return RedisOutage(readiness, note_saved, gauge_down, unready, alive, gauge_up, ready_again)


def test_redis_down_keeps_readiness_200(redis_outage: RedisOutage) -> None:
    assert redis_outage.readiness == 200


def test_redis_down_still_saves_notes(redis_outage: RedisOutage) -> None:
    assert redis_outage.note_saved == 201


def test_redis_down_drops_its_gauge_to_0(redis_outage: RedisOutage) -> None:
    assert redis_outage.gauge_down


@only("fastapi")
def test_redis_down_fails_the_worker_readiness_probe(redis_outage: RedisOutage) -> None:
    assert redis_outage.worker_unready


@only("fastapi")
def test_redis_down_keeps_the_worker_liveness_probe_passing(redis_outage: RedisOutage) -> None:
    assert redis_outage.worker_alive


def test_redis_back_raises_its_gauge_to_1(redis_outage: RedisOutage) -> None:
    assert redis_outage.gauge_up_again


@only("fastapi")
def test_redis_back_passes_the_worker_readiness_probe(redis_outage: RedisOutage) -> None:
    assert redis_outage.worker_ready_again


@only("fastapi")
def test_worker_exits_0_on_sigterm(worker: Container) -> None:
    worker.kill(signal="SIGTERM")
    exit_code = finish(worker, 60)
    assert exit_code == 0, logs(worker)


@dataclasses.dataclass(frozen=True)
class PostgresOutage:
    readiness: requests.Response
    liveness: int
    ready_again: bool
    queries_after: list[int]


@pytest.fixture(scope="module")
def postgres_outage(api: Container, loopback: Loopback) -> PostgresOutage:
    """Postgres really stopped under the running app, then started again."""
    loopback.control("pg_stop")
    try:
        readiness = get(f"{APP_URL}/health/ready")
        liveness = get(f"{APP_URL}/health/live").status_code
    finally:
        loopback.control("pg_start")
    ready_again = wait_until(lambda: answers(f"{APP_URL}/health/ready", 200), 30)
    # Real queries through every worker's pool, not only the probe: no stale connection from before the
    # restart may reach a request.
    queries_after = [get(f"{APP_URL}/notes?limit=1", headers=AUTH).status_code for _ in range(10)]
    return PostgresOutage(readiness, liveness, ready_again, queries_after)


def test_postgres_down_makes_readiness_503_without_details(postgres_outage: PostgresOutage) -> None:
    # A fixed word, never the exception's text (host and user names).
    assert postgres_outage.readiness.status_code == 503
    assert postgres_outage.readiness.json() == {
        "status": "unavailable",
        "failed": ["postgres"],
        "checks": {"postgres": "unavailable"},
    }


def test_postgres_down_keeps_liveness_200(postgres_outage: PostgresOutage) -> None:
    assert postgres_outage.liveness == 200


def test_postgres_back_makes_the_app_ready_again(postgres_outage: PostgresOutage) -> None:
    assert postgres_outage.ready_again


def test_postgres_back_serves_queries_through_the_pools(postgres_outage: PostgresOutage) -> None:
    assert postgres_outage.queries_after == [200] * 10


@dataclasses.dataclass(frozen=True)
class Drain:
    blocked_at_sigterm: bool
    status: int | str
    finished_after_sigterm: bool
    exit_code: int | None
    seconds: float
    output: str = dataclasses.field(repr=False)


def timed_get(url: str) -> tuple[int | str, float]:
    """(status or the error's name, when it ended)."""
    try:
        status: int | str = get(url, headers=AUTH).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return status, time.monotonic()


def blocked_on_lock(database_url: str) -> bool:
    """Whether a query of the app on the notes table waits on a lock inside Postgres."""
    query = """SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND state = 'active'
        AND query ILIKE '%notes%' AND pid <> pg_backend_pid()"""
    with psycopg.connect(database_url) as connection:
        return connection.execute(query).fetchone()[0] >= 1


@pytest.fixture(scope="module")
def drain(api: Container, app: str, loopback: Loopback) -> Drain:
    """SIGTERM while GET /notes provably waits in Postgres on a table lock this fixture holds: a real
    request in flight, released 2 s into the shutdown."""
    database_url = loopback.database_urls[app]
    with (
        psycopg.connect(database_url) as locker,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
    ):
        locker.execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE")
        request = pool.submit(timed_get, f"{APP_URL}/notes?limit=1")
        blocked = wait_until(lambda: blocked_on_lock(database_url), 10, interval=0.2) and not request.done()
        sigterm_at = time.monotonic()
        api.kill(signal="SIGTERM")
        time.sleep(2)
        locker.commit()
        exit_code = finish(api, GRACE_SECONDS + 15)
        seconds = time.monotonic() - sigterm_at
        status, finished_at = request.result()
    return Drain(blocked, status, finished_at > sigterm_at, exit_code, seconds, logs(api))


def test_sigterm_lets_the_request_in_flight_complete(drain: Drain) -> None:
    assert drain.blocked_at_sigterm, "the request was not blocked in Postgres when SIGTERM was sent"
    assert drain.status == 200
    assert drain.finished_after_sigterm


def test_sigterm_exits_0(drain: Drain) -> None:
    assert drain.exit_code == 0, drain.output


def test_sigterm_exits_within_the_grace_period(drain: Drain) -> None:
    assert drain.exit_code is not None, f"still running {GRACE_SECONDS + 15} s after SIGTERM"
    assert drain.seconds <= GRACE_SECONDS


@pytest.fixture(scope="module")
def rotated(
    client: docker.DockerClient,
    app: str,
    image: str,
    settings: dict[str, str],
    secret: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    api: Container,
    share_link: requests.Response,
) -> Iterator[Container]:
    """The next release in place of the first: a new SECRET_KEY with the old one as fallback, and a proxy
    range that does not include this test's address."""
    remove(api)
    release = pod(
        {**settings, "FORWARDED_ALLOW_IPS": "192.0.2.0/24"},
        {**secret, "SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": OLD_KEY},
        tmp_path_factory.mktemp("rotated-secret"),
    )
    container = start_api(client, image, release, f"api-stack-image-test-{app}-rotated-{RUN_ID}")
    yield container
    remove(container)


def test_rotated_key_still_opens_a_link_signed_with_the_old_key(
    rotated: Container, share_link: requests.Response
) -> None:
    assert opens(share_link.json()["url"])


def test_untrusted_proxy_cannot_make_share_links_https(rotated: Container) -> None:
    note = create_note("shared by an untrusted peer")
    response = post(f"{APP_URL}/notes/{note}/share", headers={**AUTH, **PROXY_HEADERS})
    assert response.status_code == 201, response.text
    assert response.json()["url"].startswith("http://127.0.0.1:8000/notes/shared/")


@dataclasses.dataclass(frozen=True)
class PushPull:
    repository: str
    digest: str
    pushed_id: str
    pulled_id: str


@pytest.fixture(scope="module")
def push_pull(client: docker.DockerClient, app: str, image: str) -> PushPull:
    """The image pushed to the loopback registry and pulled back by digest, after removing this run's
    references to it (its containers, both tags) so that the pull has to go to the registry."""
    repository = f"api-stack/{app}"
    local = client.images.get(image)
    local.tag(f"{REGISTRY}/{repository}", "test")
    for line in client.images.push(f"{REGISTRY}/{repository}", "test", stream=True, decode=True):
        assert "error" not in line, line
    digests = client.images.get(f"{REGISTRY}/{repository}:test").attrs["RepoDigests"]
    pushed = [d for d in digests if d.startswith(f"{REGISTRY}/{repository}@sha256:")]
    assert pushed, f"no digest from {REGISTRY} after the push: {digests}"
    reference = pushed[0]
    for container in client.containers.list(all=True, filters={"ancestor": local.id, "label": f"{LABEL}={RUN_ID}"}):
        remove(container)
    client.images.remove(image)
    client.images.remove(f"{REGISTRY}/{repository}:test")
    pulled = client.images.pull(reference)
    pulled.tag(image)
    return PushPull(repository, reference.partition("@")[2], local.id, pulled.id)


def test_pull_by_digest_gives_the_pushed_image(push_pull: PushPull) -> None:
    assert push_pull.pulled_id == push_pull.pushed_id


def test_registry_serves_the_manifest_and_every_blob_by_digest(push_pull: PushPull) -> None:
    # Layers still in BuildKit's cache show as "Already exists" on pull; the registry's copy is checked
    # directly: the manifest and every blob fetched by digest, each one's sha256 and size compared.
    digest, _, body = registry_blob(push_pull.repository, push_pull.digest, kind="manifests")
    assert digest == push_pull.digest
    manifest = json.loads(body)
    for blob in [manifest["config"], *manifest["layers"]]:
        assert registry_blob(push_pull.repository, blob["digest"])[:2] == (blob["digest"], blob["size"])
