"""Secrets from files in SECRETS_DIR (the Kubernetes Secret's volume) or from the environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import SECRET_NAMES, SecretsDirError, Settings

from .conftest import APP_DIR, BASE_ENV, DATABASE_URL


def write_secrets(directory: Path, **files: str) -> Path:
    directory.mkdir(mode=0o700, exist_ok=True)
    for name, value in files.items():
        (directory / name).write_text(value + "\n")  # kubectl's --from-file keeps a trailing newline
    return directory


@pytest.fixture
def secrets_only_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """SECRETS_DIR holding every secret of the suite's configuration, and none in the environment."""
    for name in SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    values = {name: BASE_ENV[name] for name in SECRET_NAMES if name in BASE_ENV}
    directory = write_secrets(tmp_path / "secrets", **values)
    monkeypatch.setenv("SECRETS_DIR", str(directory))
    return directory


def test_secrets_come_from_their_files(secrets_only_in: Path) -> None:
    (secrets_only_in / "SECRET_KEY_FALLBACKS").write_text(f"{'a' * 50},{'b' * 50}\n")
    (secrets_only_in / "SENTRY_DSN").write_text("")  # an empty key of the Secret: Sentry off
    (secrets_only_in / "DEBUG").write_text("true")  # not a secret: the ConfigMap's to set, not read here
    s = Settings()
    assert s.database_url.get_secret_value() == DATABASE_URL
    assert s.redis_url.get_secret_value() == BASE_ENV["REDIS_URL"]
    assert s.secret_key.get_secret_value() == BASE_ENV["SECRET_KEY"]
    assert [key.get_secret_value() for key in s.secret_key_fallbacks] == ["a" * 50, "b" * 50]
    assert [token.get_secret_value() for token in s.api_tokens] == BASE_ENV["API_TOKENS"].split(",")
    assert s.sentry_dsn is None
    assert s.debug is False


def test_a_secret_in_both_places_must_agree(secrets_only_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", BASE_ENV["SECRET_KEY"])  # the same value: fine
    assert Settings().secret_key.get_secret_value() == BASE_ENV["SECRET_KEY"]
    monkeypatch.setenv("SECRET_KEY", "an-older-key-from-a-docker-run-0123456789-0123456789")
    with pytest.raises(SecretsDirError) as exc:
        Settings()
    assert str(exc.value) == (
        f"SECRET_KEY: the environment variable and {secrets_only_in}/SECRET_KEY differ; set it in one place"
    )


@pytest.mark.parametrize("mode", [0o777, 0o1777])
def test_a_directory_anyone_can_write_is_refused(secrets_only_in: Path, mode: int) -> None:
    secrets_only_in.chmod(mode)
    with pytest.raises(SecretsDirError, match="is writable by every user; mount it read-only or remove o\\+w"):
        Settings()


def test_what_is_not_a_regular_file_is_refused(secrets_only_in: Path) -> None:
    (secrets_only_in / "SECRET_KEY").unlink()
    (secrets_only_in / "SECRET_KEY").mkdir()
    os.mkfifo(secrets_only_in / "SENTRY_DSN")  # reading it would block the start for ever
    (secrets_only_in / "REDIS_URL").unlink()
    (secrets_only_in / "REDIS_URL").symlink_to("..data/REDIS_URL")
    (secrets_only_in / "API_TOKENS").write_bytes(b"\xff\xfe")
    with pytest.raises(SecretsDirError) as exc:
        Settings()
    assert str(exc.value).splitlines() == [
        f"REDIS_URL: {secrets_only_in}/REDIS_URL is a link to nothing",
        f"SECRET_KEY: {secrets_only_in}/SECRET_KEY is not a regular file",
        f"SENTRY_DSN: {secrets_only_in}/SENTRY_DSN is not a regular file",
        f"API_TOKENS: {secrets_only_in}/API_TOKENS is not UTF-8 text",
    ]


def test_a_named_directory_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "missing"))
    with pytest.raises(SecretsDirError, match=r"SECRETS_DIR: .*/missing does not exist"):
        Settings()
    (tmp_path / "file").touch()
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "file"))
    with pytest.raises(SecretsDirError, match=r"SECRETS_DIR: .*/file is not a directory"):
        Settings()


def load_in_process(env: dict[str, str], code: str = "from app.config import load_settings; load_settings()"):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_process_lists_the_problems_without_the_values(secrets_only_in: Path) -> None:
    secrets_only_in.chmod(0o777)
    env = {**os.environ, "SECRET_KEY": "a-different-secret-key-0123456789-0123456789-0123456789"}
    proc = load_in_process(env)
    assert proc.returncode == 78
    assert proc.stderr.splitlines() == [
        "invalid configuration:",
        f"  SECRETS_DIR: {secrets_only_in} is writable by every user; mount it read-only or remove o+w",
        f"  SECRET_KEY: the environment variable and {secrets_only_in}/SECRET_KEY differ; set it in one place",
    ]


def test_migrations_and_the_worker_read_the_files(secrets_only_in: Path) -> None:
    env = dict(os.environ)  # the fixture took every secret out of it
    migrate = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=APP_DIR, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    worker = load_in_process(env, "from app.celery import celery_app; print(celery_app.conf.broker_url)")
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.strip() == BASE_ENV["REDIS_URL"]


KUBERNETES_LAYOUT = """
set -e
# The Secret's volume as the kubelet lays it out: a tmpfs of mode 1777, each key a link through
# ..data into a timestamped directory, then mounted read-only into the container.
mount -t tmpfs -o mode=1777,size=1m tmpfs "$DIR"
mkdir "$DIR/..2026_01_01_00_00_00.000000001"
for name in $NAMES; do
  printenv "SECRET_$name" > "$DIR/..2026_01_01_00_00_00.000000001/$name"
  ln -s "..data/$name" "$DIR/$name"
done
ln -s ..2026_01_01_00_00_00.000000001 "$DIR/..data"
if [ "$READ_ONLY" = 1 ]; then mount -o remount,ro "$DIR"; fi
exec "$@"
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="mounting a tmpfs needs root")
@pytest.mark.parametrize(("read_only", "accepted"), [(True, True), (False, False)])
def test_the_kubernetes_secret_volume(tmp_path: Path, read_only: bool, accepted: bool) -> None:
    names = [name for name in SECRET_NAMES if name in BASE_ENV]
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update({f"SECRET_{name}": BASE_ENV[name] for name in names})
    env.update(DIR=str(tmp_path), NAMES=" ".join(names), READ_ONLY=str(int(read_only)), SECRETS_DIR=str(tmp_path))
    code = "from app.config import load_settings; print(load_settings().secret_key.get_secret_value())"
    in_a_mount_namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c", KUBERNETES_LAYOUT, "sh"]
    proc = subprocess.run(
        [*in_a_mount_namespace, sys.executable, "-c", code],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if accepted:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == BASE_ENV["SECRET_KEY"]
    else:
        assert proc.returncode == 78
        assert f"SECRETS_DIR: {tmp_path} is writable by every user" in proc.stderr
