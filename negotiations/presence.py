"""Who has a negotiations socket open right now: decides whether a new message is worth an
email (only parties without an open ``/ws/negotiations/`` socket get one).

In Redis, per user, a sorted set ``<REDIS_KEY_PREFIX>:nego:online:<user id>`` of the user's
sockets (channel names) scored by their last heartbeat. A user is online while one of them
was seen within ``STALE_SECONDS``. Sockets are added on connect and removed on disconnect;
each Daphne process refreshes all of its sockets in one pipeline every
``HEARTBEAT_SECONDS`` from one timer task (started by its first socket, stopped with its
last), so a process that crashed leaves no one "online" for longer than ``STALE_SECONDS``.
Nothing here is on the message path: the consumer touches Redis on connect, disconnect and
the timer; the email task reads one key per recipient.

Without ``REDIS_URL`` (the embedded demo: one process, Celery eager) the same interface is
served from this process's memory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from django.conf import settings

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
STALE_SECONDS = 90.0
KEY_TTL_SECONDS = 300


def _key(user_id: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:nego:online:{user_id}"


def sockets_since() -> float:
    """The oldest heartbeat of a socket still open: ``ZCOUNT key sockets_since() +inf`` of
    ``presence_key(user)`` counts the user's sockets (the send batches read it)."""
    return time.time() - STALE_SECONDS


presence_key = _key


class RedisPresence:
    def __init__(self, url: str) -> None:
        self.url = url
        self._async = None
        self._async_loop = None
        self._sync = None

    def _client(self):
        import redis.asyncio as redis

        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            pool = redis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=int(getattr(settings, "NEGO_PRESENCE_REDIS_MAX_CONNECTIONS", 10)),
                timeout=5,
                decode_responses=True,
            )
            self._async = redis.Redis(connection_pool=pool)
            self._async_loop = loop
        return self._async

    def _sync_client(self):
        import redis

        if self._sync is None:
            self._sync = redis.Redis.from_url(self.url, decode_responses=True)
        return self._sync

    async def add(self, user_id: int, socket: str, now: float) -> None:
        pipe = self._client().pipeline(transaction=False)
        pipe.zadd(_key(user_id), {socket: now})
        pipe.expire(_key(user_id), KEY_TTL_SECONDS)
        await pipe.execute()

    async def remove(self, user_id: int, socket: str) -> None:
        await self._client().zrem(_key(user_id), socket)

    async def refresh(self, sockets: dict[str, int], now: float) -> None:
        pipe = self._client().pipeline(transaction=False)
        for socket, user_id in sockets.items():
            pipe.zadd(_key(user_id), {socket: now})
            pipe.expire(_key(user_id), KEY_TTL_SECONDS)
        await pipe.execute()

    def online(self, user_id: int, now: float) -> bool:
        return self._sync_client().zcount(_key(user_id), now - STALE_SECONDS, "+inf") > 0


class MemoryPresence:
    def __init__(self) -> None:
        self.sockets: dict[int, dict[str, float]] = {}

    async def add(self, user_id: int, socket: str, now: float) -> None:
        self.sockets.setdefault(user_id, {})[socket] = now

    async def remove(self, user_id: int, socket: str) -> None:
        self.sockets.get(user_id, {}).pop(socket, None)

    async def refresh(self, sockets: dict[str, int], now: float) -> None:
        for socket, user_id in sockets.items():
            self.sockets.setdefault(user_id, {})[socket] = now

    def online(self, user_id: int, now: float) -> bool:
        return any(seen >= now - STALE_SECONDS for seen in self.sockets.get(user_id, {}).values())


class Presence:
    """This process's negotiation sockets and their heartbeat timer."""

    def __init__(self, backend, *, clock=time.time) -> None:
        self.backend = backend
        self.clock = clock
        self.sockets: dict[str, int] = {}
        self._task: asyncio.Task | None = None
        self._loop = None

    def _same_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (each test has one): start afresh
            self._loop, self.sockets, self._task = loop, {}, None

    async def connect(self, user_id: int, socket: str) -> None:
        self._same_loop()
        self.sockets[socket] = user_id
        try:
            await self.backend.add(user_id, socket, self.clock())
        except Exception:  # presence only decides emails: never refuse a socket over it
            logger.exception("negotiation presence: add failed")
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def disconnect(self, user_id: int, socket: str) -> None:
        self._same_loop()
        self.sockets.pop(socket, None)
        try:
            await self.backend.remove(user_id, socket)
        except Exception:
            logger.exception("negotiation presence: remove failed")
        finally:
            if not self.sockets and self._task is not None:
                task, self._task = self._task, None
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                if self.sockets:
                    await self.backend.refresh(dict(self.sockets), self.clock())
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("negotiation presence: heartbeat failed")

    def online(self, user_id: int) -> bool:
        """Has ``user_id`` a negotiations socket open (in any process)? Synchronous: for the
        email task."""
        return self.backend.online(user_id, self.clock())


def backend_from_settings():
    if getattr(settings, "REDIS_URL", ""):
        return RedisPresence(settings.REDIS_URL)
    return MemoryPresence()


presence = Presence(backend_from_settings())
