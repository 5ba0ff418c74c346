"""fair/settings/base.py read in fresh processes under controlled environments.

Settings are evaluated once per process, so every case runs ``python -c ...`` (or
``manage.py check``) with an environment built from scratch: the caller's DATABASE_URL,
REDIS_URL, AWS_STORAGE_BUCKET_NAME and DJANGO_* variables never leak into a case."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
REMOVED_VARIABLES = ("DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME")

READ_SETTINGS = """
import django
django.setup()
import json
from django.conf import settings
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "storage": settings.STORAGES["default"]["BACKEND"],
    "allowed_hosts": settings.ALLOWED_HOSTS,
}))
"""

PRODUCTION_SECRET = secrets.token_urlsafe(50)


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in REMOVED_VARIABLES and not name.startswith("DJANGO_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "fair.settings.base"
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_settings(**overrides: str) -> dict:
    result = run_python(READ_SETTINGS, clean_env(**overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    env = clean_env(
        DJANGO_SECRET_KEY=PRODUCTION_SECRET,
        DJANGO_ALLOWED_HOSTS="fair.example.com",
        DATABASE_URL="postgres://cloudfair@db.internal:5432/cloudfair",
        REDIS_URL="redis://redis.internal:6379/0",
        **overrides,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_embedded_default_without_urls_uses_in_process_backends():
    values = read_settings(DJANGO_DEBUG="1")

    assert values["debug"] is True
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["eager"] is True
    assert values["broker"].startswith("memory://")
    assert values["storage"] == "django.core.files.storage.FileSystemStorage"
    assert values["allowed_hosts"] == ["127.0.0.1", "localhost", "[::1]"]


def test_settings_real_mode_with_urls_uses_postgres_and_redis():
    values = read_settings(
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://cloudfair@db.internal:5432/cloudfair",
        REDIS_URL="redis://redis.internal:6379/2",
    )

    assert values["engine"] == "django.db.backends.postgresql"
    assert values["channel_layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["eager"] is False
    assert values["broker"] == "redis://redis.internal:6379/2"
    assert values["storage"] == "django.core.files.storage.FileSystemStorage"


def test_settings_bucket_name_set_uses_s3_storage():
    values = read_settings(DJANGO_DEBUG="1", AWS_STORAGE_BUCKET_NAME="cloudfair-media")

    assert values["storage"] == "storages.backends.s3.S3Storage"


def test_settings_debug_off_without_secret_key_refuses_to_start():
    result = run_python(READ_SETTINGS, clean_env(DJANGO_ALLOWED_HOSTS="fair.example.com"))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert result.stdout == ""


def test_settings_debug_off_with_secret_and_hosts_starts():
    values = read_settings(
        DJANGO_SECRET_KEY=PRODUCTION_SECRET, DJANGO_ALLOWED_HOSTS="fair.example.com"
    )

    assert values["debug"] is False
    assert values["allowed_hosts"] == ["fair.example.com"]


def test_settings_debug_off_without_allowed_hosts_refuses_to_start():
    result = run_python(READ_SETTINGS, clean_env(DJANGO_SECRET_KEY=PRODUCTION_SECRET))

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is not set" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" not in result.stderr
    assert result.stdout == ""


def test_settings_allowed_hosts_with_wildcard_refuses_to_start():
    result = run_python(
        READ_SETTINGS,
        clean_env(DJANGO_SECRET_KEY=PRODUCTION_SECRET, DJANGO_ALLOWED_HOSTS="fair.example.com,*"),
    )

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must not contain '*'." in result.stderr
    assert result.stdout == ""


def test_settings_allowed_hosts_with_wildcard_refused_even_in_debug():
    result = run_python(READ_SETTINGS, clean_env(DJANGO_DEBUG="1", DJANGO_ALLOWED_HOSTS="*"))

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must not contain '*'." in result.stderr


def test_deploy_check_production_environment_passes():
    result = run_deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_with_secure_switched_off_fails():
    result = run_deploy_check(DJANGO_SECURE="0")

    assert result.returncode != 0
    assert "security.W004" in result.stderr  # SECURE_HSTS_SECONDS
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE
    assert "security.W016" in result.stderr  # CSRF_COOKIE_SECURE
