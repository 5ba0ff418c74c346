"""Housekeeping tasks of the fair core, the beat schedule, and one run on a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from axes.models import AccessAttempt, AccessFailureLog
from celery import Celery
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from fair.celery import app as celery_app
from fair.tasks import login_attempts_prune, sessions_clear_expired

PROJECT_DIR = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
WORKER_TIMEOUT_SECONDS = 30
WORKER_BROKER_DB = 13


def make_session(key: str, *, expires_in: timedelta) -> Session:
    return Session.objects.create(
        session_key=key, session_data="", expire_date=timezone.now() + expires_in
    )


def make_attempt(model, *, age: timedelta, username: str, **extra):
    row = model.objects.create(
        username=username,
        ip_address="10.0.0.1",
        user_agent="pytest",
        http_accept="*/*",
        path_info="/accounts/login/",
        **extra,
    )
    # attempt_time is auto_now_add: set the age afterwards.
    model.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - age)
    return row


# --- sessions_clear_expired ---


@pytest.mark.django_db
def test_sessions_clear_expired_deletes_only_expired_sessions_and_returns_count():
    make_session("expired-a", expires_in=-timedelta(days=1))
    make_session("expired-b", expires_in=-timedelta(seconds=5))
    make_session("live-a", expires_in=timedelta(minutes=5))

    deleted = sessions_clear_expired()

    assert deleted == 2
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live-a"]


@pytest.mark.django_db
def test_sessions_clear_expired_without_expired_sessions_deletes_nothing():
    make_session("live-a", expires_in=timedelta(days=1))

    deleted = sessions_clear_expired.delay().get()

    assert deleted == 0
    assert Session.objects.count() == 1


# --- login_attempts_prune ---


@pytest.mark.django_db
def test_login_attempts_prune_deletes_only_rows_older_than_30_days():
    attempt_fields = {"get_data": "", "post_data": "", "failures_since_start": 1}
    make_attempt(
        AccessAttempt, age=timedelta(days=31), username="old@example.test", **attempt_fields
    )
    make_attempt(
        AccessAttempt, age=timedelta(days=29), username="new@example.test", **attempt_fields
    )
    make_attempt(AccessFailureLog, age=timedelta(days=40), username="old@example.test")
    make_attempt(AccessFailureLog, age=timedelta(days=1), username="new@example.test")

    deleted = login_attempts_prune()

    assert deleted == 2
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["new@example.test"]
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == ["new@example.test"]


@pytest.mark.django_db
def test_login_attempts_prune_with_shorter_age_deletes_more():
    make_attempt(AccessFailureLog, age=timedelta(days=8), username="a@example.test")
    make_attempt(AccessFailureLog, age=timedelta(days=6), username="b@example.test")

    deleted = login_attempts_prune(days=7)

    assert deleted == 1
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == ["b@example.test"]


# --- Beat schedule ---


def test_beat_schedule_names_only_registered_tasks():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled == {
        "fair.tasks.sessions_clear_expired",
        "fair.tasks.login_attempts_prune",
        "exhibitors.visits_flush",
        "exhibitors.tasks.search_words_refresh",
        "livestream.tasks.reminders_send",
        "negotiations.tasks.quotes_expire",
    }
    celery_app.loader.import_default_modules()
    assert scheduled <= set(celery_app.tasks)


def test_celery_registry_does_not_know_made_up_task():
    assert "fair.tasks.no_such_task" not in celery_app.tasks


# --- A real worker ---


def worker_database_url() -> str:
    params = connection.settings_dict
    user = quote(params["USER"] or "", safe="")
    password = f":{quote(params['PASSWORD'], safe='')}" if params["PASSWORD"] else ""
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def broker_database_url(redis_url: str) -> str:
    """The same Redis server, another database: the suite's cache.clear() is a FLUSHDB of the
    cache database, and any test run sharing it (here or in a parallel run) would wipe the
    queued message and the worker's queue binding."""
    parts = urlsplit(redis_url)
    cache_db = parts.path.strip("/") or "0"
    broker_db = WORKER_BROKER_DB if cache_db != str(WORKER_BROKER_DB) else WORKER_BROKER_DB - 1
    return urlunsplit((parts.scheme, parts.netloc, f"/{broker_db}", "", ""))


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_sessions_clear_expired_on_real_worker_deletes_expired_session(tmp_path):
    broker_url = broker_database_url(os.environ["REDIS_URL"])
    queue = f"cloudfair-test-{uuid.uuid4().hex}"
    make_session("expired-on-worker", expires_in=-timedelta(hours=1))
    make_session("live-on-worker", expires_in=timedelta(hours=1))
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fair.settings.test",
        "DATABASE_URL": worker_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url,
    }
    sender = Celery("cloudfair-test-sender", broker=broker_url, set_as_current=False)
    sender.conf.task_always_eager = False

    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "fair",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS

    def wait_until(condition) -> None:
        while not condition():
            assert worker.poll() is None, f"the worker died:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"no result in time:\n{log_path.read_text()}"
            time.sleep(0.2)

    try:
        sender.signature("fair.tasks.sessions_clear_expired").apply_async(queue=queue)
        # Only the worker can run it: the sender is not eager and this process runs no worker.
        wait_until(lambda: not Session.objects.filter(session_key="expired-on-worker").exists())
    finally:
        stop(worker)
        sender.close()
        client = redis.Redis.from_url(broker_url)
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["live-on-worker"]
