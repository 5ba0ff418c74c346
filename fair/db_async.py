"""Database work from websocket consumers, off the event loop, on a small thread pool.

``channels.db.database_sync_to_async`` runs every call on *one* thread per process and, around
each call, resets Django's connection state so that the next query first runs a health check
(``SELECT 1``). On a chat's hot path (every message of every room) that single thread spent
most of its time waiting for PostgreSQL round trips, one of them the health check: measured
in ``bench/chat_fanout.py``, a process topped out at about 180 stored messages a second.

``db_async(function)`` instead runs calls on ``REALTIME_DB_THREADS`` threads (default 4), each
with its own persistent connection, so round trips of different messages overlap. Before each
call it closes the thread's connection only if it is obsolete (``REALTIME_DB_CONN_MAX_AGE``, as
these threads outlive requests; ``CONN_MAX_AGE`` is 0 for request threads) or broke in an
earlier call (Django notes errors and checks usability then), without a health-check query.
A connection that dies silently costs one failed call, answered as "unavailable" to the client,
which retries the same idempotent message.

With ``REALTIME_DB_THREADS = 0`` (the test settings: tests close connections of the one database
thread between tests) it is ``database_sync_to_async``."""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=int(settings.REALTIME_DB_THREADS), thread_name_prefix="realtime-db"
        )
    return _executor


def _prepared(function):
    @functools.wraps(function)
    def run(*args, **kwargs):
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
            # Usable as far as we know: skip the per-call SELECT 1 (errors are noted).
            connection.health_check_done = connection.connection is not None
        try:
            return function(*args, **kwargs)
        finally:
            # These threads live as long as the process, so their connections are kept for
            # REALTIME_DB_CONN_MAX_AGE whatever CONN_MAX_AGE says (0 for request threads).
            max_age = int(getattr(settings, "REALTIME_DB_CONN_MAX_AGE", 300))
            for connection in connections.all(initialized_only=True):
                close_at = connection.close_at
                if connection.connection is not None and close_at is not None:
                    connection.close_at = max(close_at, time.monotonic() + max_age)

    return run


def db_async(function):
    """An awaitable version of ``function`` run on the realtime database pool."""
    if int(getattr(settings, "REALTIME_DB_THREADS", 0)) <= 0:
        return database_sync_to_async(function)
    return SyncToAsync(_prepared(function), thread_sensitive=False, executor=_pool())
