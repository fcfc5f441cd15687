"""What the platform relies on is the same in both apps: gunicorn's settings, the variables and
secret files read and how bad ones are refused, health answers (Postgres down included), metric and
label names, the bearer-token model, and how uv gets into the images. Each app runs from its own
directory and virtualenv against the real Postgres and Redis; the secrets reach them as files in
SECRETS_DIR, the way the pods get them.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .apps import API_TOKENS, SECRET_NAMES, App, Server, free_ports, gunicorn, request, write_secrets
from .conftest import APPS

# gunicorn.conf.py's values the platform's numbers rest on (docs/apps.md, "Gunicorn"): the pod's
# grace period and preStop pause around graceful_timeout, the proxies' idle timeouts below keepalive.
PLATFORM_GUNICORN = {
    "bind": "0.0.0.0:8000",
    "keepalive": 95,
    "graceful_timeout": 20,
    "timeout": 60,
    "max_requests": 2000,
    "max_requests_jitter": 200,
    "worker_tmp_dir": "/dev/shm",
    "control_socket_disable": True,
    "forwarded_allow_ips": "127.0.0.1",
    "accesslog": "-",
    "errorlog": "-",
    "loglevel": "info",
}
GUNICORN_OVERRIDES = {
    "GUNICORN_BIND": "127.0.0.1:8123",
    "GUNICORN_KEEPALIVE": "7",
    "GUNICORN_GRACEFUL_TIMEOUT": "3",
    "GUNICORN_TIMEOUT": "9",
    "GUNICORN_MAX_REQUESTS": "11",
    "GUNICORN_MAX_REQUESTS_JITTER": "2",
    "GUNICORN_LOG_LEVEL": "warning",
    "FORWARDED_ALLOW_IPS": "10.42.0.0/16, 192.0.2.7",
    "WEB_CONCURRENCY": "3",
}
# Read by one app only, on purpose: the Celery worker's limits; Django's hosts, admin switch and
# threads per process.
ONLY_FASTAPI = {"CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT", "CELERY_VISIBILITY_TIMEOUT"}
ONLY_DJANGO = {"ALLOWED_HOSTS", "DJANGO_ADMIN_ENABLED", "GUNICORN_THREADS"}

# os.environ replaced by a mapping that records the names the app's own code looks up (not its
# libraries'), for the code that follows.
RECORD_ENVIRONMENT = """
import json, os, sys
class Recorder(dict):
    names = set()
    def record(self, name):
        caller = sys._getframe(2).f_code.co_filename
        if caller.startswith(os.getcwd()) and "/.venv" not in caller:
            self.names.add(name)
    def get(self, name, default=None):
        self.record(name)
        return super().get(name, default)
    def __getitem__(self, name):
        self.record(name)
        return super().__getitem__(name)
    def __contains__(self, name):
        self.record(name)
        return super().__contains__(name)
os.environ = Recorder(os.environ)
import runpy; runpy.run_path(os.path.abspath("gunicorn.conf.py"))
"""
# What each app's settings declare beyond what the recorder sees: pydantic-settings reads the whole
# environment at once, so FastAPI's names are its fields.
DECLARED = {
    "fastapi": "from app.config import SECRET_NAMES as secrets, Settings\n"
    "names = {name.upper() for name in Settings.model_fields}",
    "django": "secrets = settings.SECRET_NAMES\nnames = set()",
}


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Callable[..., Path]:
    """A function that writes an app's Secret, with CHANGES, into a directory of its own."""

    def make(app: App, **changes: str) -> Path:
        return write_secrets(tmp_path / f"secrets-{app.name}", {**app.secrets(), **changes})

    return make


def test_gunicorn_settings_the_platform_relies_on(secrets_dir) -> None:
    defaults, overridden = {}, {}
    for app in APPS:
        env = app.environment(secrets_dir(app))
        defaults[app.name] = {key: app.gunicorn_settings(env)[key] for key in PLATFORM_GUNICORN}
        settings = app.gunicorn_settings({**env, **GUNICORN_OVERRIDES})
        overridden[app.name] = {key: settings[key] for key in [*PLATFORM_GUNICORN, "workers"]}
    assert defaults == {app.name: PLATFORM_GUNICORN for app in APPS}
    assert overridden["fastapi"] == overridden["django"]
    assert overridden["django"]["keepalive"] == 7
    assert overridden["django"]["forwarded_allow_ips"] == "10.42.0.0/16,192.0.2.7"
    assert overridden["django"]["workers"] == 3


def test_the_same_variables_and_secret_files_are_read(secrets_dir) -> None:
    read = {}
    for app in APPS:
        code = f"{RECORD_ENVIRONMENT}\n{app.settings_loader}\n{DECLARED[app.name]}\n" + (
            "print(json.dumps({'names': sorted(names | os.environ.names), 'secrets': list(secrets)}))"
        )
        proc = app.run(["-c", code], app.environment(secrets_dir(app)))
        assert proc.returncode == 0, proc.stderr
        read[app.name] = json.loads(proc.stdout.splitlines()[-1])
    assert set(read["fastapi"]["names"]) - ONLY_FASTAPI == set(read["django"]["names"]) - ONLY_DJANGO
    assert {"SECRETS_DIR", "API_TOKENS", "GUNICORN_KEEPALIVE", "METRICS_PORT"} <= set(read["django"]["names"])
    assert read["fastapi"]["secrets"] == read["django"]["secrets"] == list(SECRET_NAMES)


def problems(app: App, env: dict[str, str]) -> list[str]:
    """The lines of the app's configuration error, its directory written as <dir>."""
    proc = app.load_settings(env)
    assert proc.returncode != 0, f"{app.name} accepted the configuration"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.replace(env["SECRETS_DIR"], "<dir>").splitlines()
    assert lines[0] == "invalid configuration:"
    return lines[1:]


def test_bad_secrets_are_refused_alike(secrets_dir) -> None:
    refused = {}
    for app in APPS:
        directory = secrets_dir(app)
        directory.chmod(0o1777)
        (directory / "SENTRY_DSN").mkdir()
        env = app.environment(directory, SECRET_KEY="not-the-secret-key-in-the-file-0123456789-0123456789")
        refused[app.name] = problems(app, env)
    assert (
        refused["fastapi"]
        == refused["django"]
        == [
            "  SECRETS_DIR: <dir> is writable by every user; mount it read-only or remove o+w",
            "  SECRET_KEY: the environment variable and <dir>/SECRET_KEY differ; set it in one place",
            "  SENTRY_DSN: <dir>/SENTRY_DSN is not a regular file",
        ]
    )


@pytest.mark.parametrize(
    ("tokens", "environment", "expected"),
    [
        (None, "test", "  API_TOKENS: required but not set"),
        (" , ", "test", "  API_TOKENS: at least one token is required"),
        (
            f"{API_TOKENS[0]},two words",
            "test",
            "  API_TOKENS: token 2 of 2 has characters other than A-Z a-z 0-9 - . _ ~ + / (and = at its end)",
        ),
        (
            f"{API_TOKENS[0]},{'s' * 31}",
            "production",
            "  API_TOKENS: token 2 of 2 is shorter than 32 characters, the minimum in staging and production",
        ),
    ],
)
def test_bad_api_tokens_are_refused_alike(tmp_path: Path, tokens: str | None, environment: str, expected: str) -> None:
    for app in APPS:
        secrets = {key: value for key, value in app.secrets().items() if key != "API_TOKENS"}
        directory = write_secrets(tmp_path / app.name, secrets | ({"API_TOKENS": tokens} if tokens else {}))
        lines = problems(app, app.environment(directory, ENVIRONMENT=environment))
        assert [line for line in lines if line.startswith("  API_TOKENS:")] == [expected], app.name


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Both apps migrated and served with every secret in files only, as in the pods."""
    fastapi, django = APPS
    with (
        gunicorn(fastapi, env_for(fastapi, tmp_path_factory)) as fastapi_server,
        gunicorn(django, env_for(django, tmp_path_factory)) as django_server,
    ):
        yield {"fastapi": fastapi_server, "django": django_server}


def env_for(app: App, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = app.environment(write_secrets(tmp_path_factory.mktemp(app.name), app.secrets()))
    migrate = app.run(list(app.migrate), env)  # the migration Job reads the same files
    assert migrate.returncode == 0, migrate.stderr
    return env


def test_health_answers_are_the_same(servers: dict[str, Server]) -> None:
    answers = {
        name: [(r.status, r.json()) for r in (request(f"{s.base}/health/live"), request(f"{s.base}/health/ready"))]
        for name, s in servers.items()
    }
    assert (
        answers["fastapi"]
        == answers["django"]
        == [
            (200, {"status": "ok"}),
            (200, {"status": "ok", "checks": {"postgres": "ok"}}),
        ]
    )


def test_readiness_without_postgres_is_the_same(secrets_dir) -> None:
    closed = f"postgresql://api:pw@127.0.0.1:{free_ports(1)[0]}/app"
    answers = {}
    for app in APPS:
        with gunicorn(app, app.environment(secrets_dir(app, DATABASE_URL=closed))) as server:
            ready, live = request(f"{server.base}/health/ready"), request(f"{server.base}/health/live")
        answers[app.name] = (ready.status, ready.json(), live.status)
    assert (
        answers["fastapi"]
        == answers["django"]
        == (
            503,
            {"status": "unavailable", "failed": ["postgres"], "checks": {"postgres": "unavailable"}},
            200,
        )
    )


def auth_model(server: Server) -> dict[str, object]:
    """Who may do what: the answer to each operation without a token, with each token, and to the
    share link and the probes without one."""
    first, second = API_TOKENS
    created = request(f"{server.base}/notes", "POST", first, '{"title": "contract"}')
    note = f"{server.base}/notes/{created.json()['id']}"
    share = request(f"{note}/share", "POST", second)
    refused = {
        label: (answer.status, answer.headers.get("WWW-Authenticate"), answer.json())
        for label, answer in {
            "list": request(f"{server.base}/notes"),
            "create": request(f"{server.base}/notes", "POST", None, '{"title": "x"}'),
            "read": request(note),
            "share": request(f"{note}/share", "POST"),
            "delete": request(note, "DELETE"),
            "wrong token": request(note, token="contract-wrong-token-0123456789abcdefghijkl"),
        }.items()
    }
    return {
        "refused": refused,
        "create": created.status,
        "share": share.status,
        "list with either token": [request(f"{server.base}/notes", token=token).status for token in API_TOKENS],
        "shared link without a token": request(share.json()["url"]).status,
        "probes and metrics without a token": [
            request(url).status for url in (f"{server.base}/health/live", f"{server.metrics}/metrics")
        ],
        "delete": request(note, "DELETE", second).status,
    }


def test_the_auth_model_is_the_same(servers: dict[str, Server]) -> None:
    models = {name: auth_model(server) for name, server in servers.items()}
    assert models["fastapi"] == models["django"]
    unauthorized = (401, "Bearer", {"detail": "missing or invalid bearer token"})
    assert models["django"]["refused"] == dict.fromkeys(models["django"]["refused"], unauthorized)
    assert models["django"]["shared link without a token"] == 200


SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? ")


def metric_names(server: Server) -> dict[str, object]:
    """Metric names with their label names, and the dependencies checked, once both are."""
    deadline = time.monotonic() + 30
    while True:
        text = request(f"{server.metrics}/metrics").body.decode()
        series = {}
        dependencies = set()
        for line in text.splitlines():
            match = SAMPLE.match(line)
            if match is None:
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match["labels"] or ""))
            series.setdefault(match["name"], set()).add(tuple(sorted(labels)))
            if match["name"] == "dependency_up":
                dependencies.add(labels["dependency"])
        if dependencies == {"postgres", "redis"} or time.monotonic() > deadline:
            return {"series": series, "dependencies": dependencies}
        time.sleep(0.5)


def test_metric_and_label_names_are_the_same(servers: dict[str, Server]) -> None:
    for server in servers.values():
        assert request(f"{server.base}/notes", token=API_TOKENS[0]).status == 200
        assert request(f"{server.base}/notes/999999").status == 401
    names = {name: metric_names(server) for name, server in servers.items()}
    assert names["fastapi"] == names["django"]
    series = names["django"]["series"]
    assert series["http_requests_total"] == {("method", "route", "status")}
    assert series["http_request_duration_seconds_bucket"] == {("le", "method", "route", "status")}
    assert series["dependency_up"] == {("dependency",)}
    assert names["django"]["dependencies"] == {"postgres", "redis"}


def test_uv_is_installed_by_hash_in_both_images(tmp_path: Path) -> None:
    requirements = {app.name: (app.dir / "uv-requirements.txt").read_text() for app in APPS}
    assert requirements["fastapi"] == requirements["django"]
    pins = re.findall(r"^uv==\S+", requirements["django"], re.M)
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", requirements["django"])
    assert len(pins) == 1
    assert len(hashes) == 2  # linux/amd64 and linux/arm64
    command = "pip install --quiet --require-hashes --only-binary :all: --no-deps -r /tmp/uv-requirements.txt"
    for app in APPS:
        dockerfile = (app.dir / "Dockerfile").read_text()
        assert command in dockerfile, app.name
        assert "source=uv-requirements.txt,target=/tmp/uv-requirements.txt" in dockerfile, app.name
        assert "uv==" not in dockerfile, app.name
    # The same pip command, offline, given a wheel of that name and version that is not the one
    # published: it must refuse it.
    version = pins[0].removeprefix("uv==")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    machine = platform.machine()
    (wheels / f"uv-{version}-py3-none-manylinux_2_17_{machine}.manylinux2014_{machine}.whl").write_bytes(b"x" * 1024)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    install = command.removeprefix("pip ").removesuffix("/tmp/uv-requirements.txt").split()
    pip = subprocess.run(
        [tmp_path / "venv" / "bin" / "pip", *install, APPS[1].dir / "uv-requirements.txt", "--no-index", "-f", wheels],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pip.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in pip.stderr
