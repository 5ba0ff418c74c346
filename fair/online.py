"""Who is online, per audience ("buyers", "exhibitors", "organisers"), for the dashboard.

Every open page of a signed-in user holds the notices socket (``fair.consumers``). Each
server process keeps the set of its signed-in users per audience and, every
``ONLINE_HEARTBEAT_SECONDS``, writes them into a Redis sorted set per audience scored by the
time (one pipelined call per process, not one per socket); a user counts as online while
their last heartbeat is younger than ``ONLINE_STALE_SECONDS``. Without Redis (the embedded
demo, one process) the same lives in memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from django.conf import settings

HEARTBEAT_SECONDS = 30
STALE_SECONDS = 75


def _key(audience: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:online:{audience}"


class _Memory:
    def __init__(self) -> None:
        self.seen: dict[str, dict[int, float]] = {}
        self.lock = threading.Lock()

    def mark(self, audiences: dict[str, Iterable[int]], now: float) -> None:
        with self.lock:
            for audience, user_ids in audiences.items():
                bucket = self.seen.setdefault(audience, {})
                for user_id in user_ids:
                    bucket[user_id] = now

    def count(self, audience: str, now: float) -> int:
        with self.lock:
            cutoff = now - STALE_SECONDS
            return sum(1 for seen in self.seen.get(audience, {}).values() if seen >= cutoff)


class _Redis:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, max_connections=4)

    def mark(self, audiences: dict[str, Iterable[int]], now: float) -> None:
        pipe = self.client.pipeline(transaction=False)
        for audience, user_ids in audiences.items():
            members = {str(user_id): now for user_id in user_ids}
            if members:
                pipe.zadd(_key(audience), members)
            pipe.zremrangebyscore(_key(audience), "-inf", now - STALE_SECONDS)
            pipe.expire(_key(audience), STALE_SECONDS * 4)
        pipe.execute()

    def count(self, audience: str, now: float) -> int:
        return int(self.client.zcount(_key(audience), now - STALE_SECONDS, "+inf"))


_backend = None
_backend_lock = threading.Lock()


def _store():
    global _backend
    with _backend_lock:
        if _backend is None:
            _backend = _Redis(settings.REDIS_URL) if settings.REDIS_URL else _Memory()
        return _backend


def online_mark(audiences: dict[str, Iterable[int]], now: float | None = None) -> None:
    """Record these users as online now (blocking: call from a thread, not the loop)."""
    _store().mark(audiences, time.time() if now is None else now)


def online_count(audience: str, now: float | None = None) -> int:
    return _store().count(audience, time.time() if now is None else now)
