from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from app.cpu import available_cpus, concurrency_from_env, cpu_limit

from .conftest import APP_DIR


def load_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", APP_DIR / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def conf(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    return load_conf()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota(conf, tmp_path: Path) -> None:
    write(tmp_path / "cpu.max", "250000 100000\n")
    assert cpu_limit(str(tmp_path)) == 2.5
    assert available_cpus(str(tmp_path)) == 3
    assert conf.default_workers(str(tmp_path)) == 3


def test_cgroup_v1_quota(conf, tmp_path: Path) -> None:
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "50000\n")
    write(tmp_path / "cpu" / "cpu.cfs_period_us", "100000\n")
    assert cpu_limit(str(tmp_path)) == 0.5
    assert available_cpus(str(tmp_path)) == 1
    assert conf.default_workers(str(tmp_path)) == 2  # never fewer than two web workers


def test_no_quota_uses_the_cpuset_not_the_host(conf, tmp_path: Path) -> None:
    write(tmp_path / "cpu.max", "max 100000\n")
    assert cpu_limit(str(tmp_path)) is None
    assert available_cpus(str(tmp_path)) == len(os.sched_getaffinity(0))
    write(tmp_path / "v1" / "cpu" / "cpu.cfs_quota_us", "-1\n")
    write(tmp_path / "v1" / "cpu" / "cpu.cfs_period_us", "100000\n")
    assert cpu_limit(str(tmp_path / "v1")) is None


def test_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    assert load_conf().workers == 7
    monkeypatch.setenv("WEB_CONCURRENCY", "zero")
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        load_conf()


def test_celery_pool_follows_the_quota_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.celery import celery_app  # configured at import, before CELERY_CONCURRENCY is set below

    assert celery_app.conf.worker_concurrency == available_cpus()
    assert concurrency_from_env("CELERY_CONCURRENCY", 3) == 3
    monkeypatch.setenv("CELERY_CONCURRENCY", "5")
    assert concurrency_from_env("CELERY_CONCURRENCY", 3) == 5


def test_production_settings(conf) -> None:
    assert conf.bind == "0.0.0.0:8000"
    assert conf.worker_class == "uvicorn_worker.UvicornWorker"
    assert conf.worker_tmp_dir == "/dev/shm"
    assert conf.max_requests > 0
    assert conf.max_requests_jitter > 0
    assert 0 < conf.graceful_timeout <= 20  # inside 30s grace period minus the 5s preStop pause
    assert conf.timeout > 0
    assert conf.keepalive > 90
    assert conf.forwarded_allow_ips == "127.0.0.1"  # no proxy is trusted unless the platform names it
    assert conf.control_socket_disable is True


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", " 10.42.0.0/16, 192.0.2.7 ,fd00::/8")
    assert load_conf().forwarded_allow_ips == "10.42.0.0/16,192.0.2.7,fd00::/8"
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.42.0.0/16,ingress-nginx")
    with pytest.raises(SystemExit, match="FORWARDED_ALLOW_IPS: 'ingress-nginx' is not an IP address or network"):
        load_conf()
