"""Secrets from files in SECRETS_DIR (the Kubernetes Secret's volume) or from the environment.
Settings are module-level in Django, so each configuration is loaded in a fresh process through
manage.py, which reports a configuration problem as such."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import APP_DIR
from .testenv import BASE_ENV

SECRET_NAMES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "SENTRY_DSN", "API_TOKENS")
SHOW = (
    "from django.conf import settings as s; print(s.DATABASES['default']['NAME'], s.REDIS_URL, s.SECRET_KEY,"
    " s.SECRET_KEY_FALLBACKS, s.API_TOKENS, repr(s.SENTRY_DSN), s.DEBUG)"
)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    """SECRETS_DIR holding every secret of the suite's configuration."""
    directory = tmp_path / "secrets"
    directory.mkdir(mode=0o700)
    for name in SECRET_NAMES:
        if name in BASE_ENV:
            (directory / name).write_text(BASE_ENV[name] + "\n")  # kubectl's --from-file keeps a trailing newline
    return directory


def only_files(directory: Path, **env: str) -> dict[str, str]:
    """The process environment without any secret, reading them from DIRECTORY."""
    return {
        **{key: value for key, value in os.environ.items() if key not in SECRET_NAMES},
        "SECRETS_DIR": str(directory),
        **env,
    }


def test_secrets_come_from_their_files(secrets_dir: Path) -> None:
    (secrets_dir / "SECRET_KEY_FALLBACKS").write_text(f"{'a' * 50},{'b' * 50}\n")
    (secrets_dir / "SENTRY_DSN").write_text("")  # an empty key of the Secret: Sentry off
    (secrets_dir / "DEBUG").write_text("true")  # not a secret: the ConfigMap's to set, not read here
    proc = manage(only_files(secrets_dir), "shell", "--no-imports", "-c", SHOW)
    assert proc.returncode == 0, proc.stderr
    tokens = BASE_ENV["API_TOKENS"].split(",")
    assert proc.stdout.split() == [
        "django_test",
        BASE_ENV["REDIS_URL"],
        BASE_ENV["SECRET_KEY"],
        f"['{'a' * 50}',",
        f"'{'b' * 50}']",
        f"['{tokens[0]}',",
        f"'{tokens[1]}']",
        "''",
        "False",
    ]


def test_a_secret_in_both_places_must_agree(secrets_dir: Path) -> None:
    same = manage(only_files(secrets_dir, SECRET_KEY=BASE_ENV["SECRET_KEY"]), "check")
    assert same.returncode == 0, same.stderr
    other = "an-older-key-from-a-docker-run-0123456789-0123456789"
    differ = manage(only_files(secrets_dir, SECRET_KEY=other), "check")
    assert differ.returncode == 1
    assert differ.stderr.splitlines() == [
        "invalid configuration:",
        f"  SECRET_KEY: the environment variable and {secrets_dir}/SECRET_KEY differ; set it in one place",
    ]


@pytest.mark.parametrize("mode", [0o777, 0o1777])
def test_a_directory_anyone_can_write_is_refused(secrets_dir: Path, mode: int) -> None:
    secrets_dir.chmod(mode)
    proc = manage(only_files(secrets_dir), "check")
    assert proc.returncode == 1
    assert f"SECRETS_DIR: {secrets_dir} is writable by every user; mount it read-only or remove o+w" in proc.stderr


def test_what_is_not_a_regular_file_is_refused(secrets_dir: Path) -> None:
    (secrets_dir / "SECRET_KEY").unlink()
    (secrets_dir / "SECRET_KEY").mkdir()
    os.mkfifo(secrets_dir / "SENTRY_DSN")  # reading it would block the start for ever
    (secrets_dir / "REDIS_URL").unlink()
    (secrets_dir / "REDIS_URL").symlink_to("..data/REDIS_URL")
    (secrets_dir / "API_TOKENS").write_bytes(b"\xff\xfe")
    proc = manage(only_files(secrets_dir), "check")
    assert proc.returncode == 1
    problems = [line for line in proc.stderr.splitlines() if str(secrets_dir) in line]
    assert problems == [
        f"  REDIS_URL: {secrets_dir}/REDIS_URL is a link to nothing",
        f"  SECRET_KEY: {secrets_dir}/SECRET_KEY is not a regular file",
        f"  SENTRY_DSN: {secrets_dir}/SENTRY_DSN is not a regular file",
        f"  API_TOKENS: {secrets_dir}/API_TOKENS is not UTF-8 text",
    ]


def test_a_named_directory_must_exist(tmp_path: Path) -> None:
    missing = manage({**os.environ, "SECRETS_DIR": str(tmp_path / "missing")}, "check")
    assert f"SECRETS_DIR: {tmp_path}/missing does not exist" in missing.stderr
    (tmp_path / "file").touch()
    not_a_directory = manage({**os.environ, "SECRETS_DIR": str(tmp_path / "file")}, "check")
    assert f"SECRETS_DIR: {tmp_path}/file is not a directory" in not_a_directory.stderr


def test_migrations_read_the_files(secrets_dir: Path) -> None:
    migrate = manage(only_files(secrets_dir), "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    shown = manage(only_files(secrets_dir), "showmigrations", "notes")
    assert "[X] 0002_note_pinned" in shown.stdout, shown.stderr


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
    env = only_files(tmp_path, DIR=str(tmp_path), NAMES=" ".join(names), READ_ONLY=str(int(read_only)))
    env.update({f"SECRET_{name}": BASE_ENV[name] for name in names})
    in_a_mount_namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c", KUBERNETES_LAYOUT, "sh"]
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    proc = subprocess.run(
        [*in_a_mount_namespace, sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
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
        assert proc.returncode == 1
        assert f"SECRETS_DIR: {tmp_path} is writable by every user" in proc.stderr
