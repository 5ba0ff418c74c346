"""A user's open websockets, counted across every server process: the per-user connection
cap of every consumer (``fair.consumers``, SECURITY E5) and the negotiations presence
(``negotiations.presence``) are both sets of sockets kept here.

In Redis, per set, a sorted set ``<key>`` of socket ids (channel names) scored by their last
heartbeat. A socket is open while its heartbeat is younger than ``STALE_SECONDS``. Sockets
are added on connect and removed on disconnect; each Daphne process refreshes all of its
sockets, of every set, in one pipeline every ``HEARTBEAT_SECONDS`` from one timer task
(started by its first socket, stopped with its last), so the sockets of a process that
crashed stop counting after ``STALE_SECONDS``. Nothing here is on the message path: Redis is
touched on connect, on disconnect and by the timer.

Adding under a limit (the cap) is one Lua script: it drops the set's stale entries, counts
the rest and adds the socket only below the limit, so two processes admitting sockets of
the same user at once can never both take the last place.

Without ``REDIS_URL`` (the embedded demo: one process) the same interface is served from
this process's memory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from django.conf import settings

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
STALE_SECONDS = 90.0
KEY_TTL_SECONDS = 300

# KEYS[1] the set; ARGV: socket, now, stale before, limit, key TTL. 1 added, 0 refused.
_ADD_UNDER_LIMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false
    and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def user_sockets_key(kind: str, user_id: int) -> str:
    """The set of ``user_id``'s sockets of one kind (``nego:online``, ``sockets:<endpoint>``)."""
    return f"{settings.REDIS_KEY_PREFIX}:{kind}:{user_id}"


class RedisSocketStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._async = None
        self._async_loop = None
        self._script = None
        self._sync = None

    def _client(self):
        """One client per event loop (a Daphne process has one; each test has its own, and a
        pool's connections cannot cross loops)."""
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
            self._script = self._async.register_script(_ADD_UNDER_LIMIT)
        return self._async

    def _sync_client(self):
        import redis

        if self._sync is None:
            self._sync = redis.Redis.from_url(self.url, decode_responses=True)
        return self._sync

    async def add(self, key: str, socket: str, now: float, limit: int | None = None) -> bool:
        """Add ``socket`` to ``key`` (with ``limit``: only while fewer are open); whether it
        was added."""
        client = self._client()
        if limit is not None:
            args = [socket, now, now - STALE_SECONDS, limit, KEY_TTL_SECONDS]
            return bool(await self._script(keys=[key], args=args))
        pipe = client.pipeline(transaction=False)
        pipe.zadd(key, {socket: now})
        pipe.expire(key, KEY_TTL_SECONDS)
        await pipe.execute()
        return True

    async def remove(self, pairs: Iterable[tuple[str, str]]) -> None:
        pipe = self._client().pipeline(transaction=False)
        for key, socket in pairs:
            pipe.zrem(key, socket)
        await pipe.execute()

    async def refresh(self, pairs: Iterable[tuple[str, str]], now: float) -> None:
        pipe = self._client().pipeline(transaction=False)
        for key, socket in pairs:
            pipe.zadd(key, {socket: now})
            pipe.expire(key, KEY_TTL_SECONDS)
        await pipe.execute()

    def count(self, key: str, now: float) -> int:
        return self._sync_client().zcount(key, now - STALE_SECONDS, "+inf")


class MemorySocketStore:
    def __init__(self) -> None:
        self.sets: dict[str, dict[str, float]] = {}

    async def add(self, key: str, socket: str, now: float, limit: int | None = None) -> bool:
        sockets = self.sets.setdefault(key, {})
        if limit is not None:
            for stale in [s for s, seen in sockets.items() if seen < now - STALE_SECONDS]:
                del sockets[stale]
            if socket not in sockets and len(sockets) >= limit:
                return False
        sockets[socket] = now
        return True

    async def remove(self, pairs: Iterable[tuple[str, str]]) -> None:
        for key, socket in pairs:
            self.sets.get(key, {}).pop(socket, None)

    async def refresh(self, pairs: Iterable[tuple[str, str]], now: float) -> None:
        for key, socket in pairs:
            self.sets.setdefault(key, {})[socket] = now

    def count(self, key: str, now: float) -> int:
        return sum(seen >= now - STALE_SECONDS for seen in self.sets.get(key, {}).values())


class UserSockets:
    """This process's sockets in the sets, and their one heartbeat timer."""

    def __init__(self, store, *, clock=time.time) -> None:
        self.store = store
        self.clock = clock
        self.sockets: set[tuple[str, str]] = set()  # (set key, socket id)
        self._task: asyncio.Task | None = None
        self._loop = None

    def _same_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (each test has one): start afresh
            self._loop, self.sockets, self._task = loop, set(), None

    async def add(self, key: str, socket: str, *, limit: int | None = None) -> bool:
        """Count ``socket`` in ``key``; with ``limit``, only if fewer than ``limit`` sockets
        are open there (in every process): False means refused, nothing was added. If Redis
        fails the socket is counted here anyway (the heartbeat writes it once Redis is
        back): a Redis outage must not lock everyone out."""
        self._same_loop()
        try:
            added = await self.store.add(key, socket, self.clock(), limit)
        except Exception:
            logger.exception("user sockets: add failed")
            added = True
        if added:
            self.sockets.add((key, socket))
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._run())
        return added

    async def remove(self, key: str, socket: str) -> None:
        """Stop counting ``socket`` in ``key`` (never raises: called on every close path)."""
        self._same_loop()
        self.sockets.discard((key, socket))
        try:
            await self.store.remove([(key, socket)])
        except Exception:
            logger.exception("user sockets: remove failed")
        finally:
            if not self.sockets and self._task is not None:
                task, self._task = self._task, None
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def heartbeat(self) -> None:
        """Refresh every socket of this process (the timer's work). A socket removed while
        the pipeline ran is removed once more after it, so it cannot linger as a ghost."""
        pairs = set(self.sockets)
        if not pairs:
            return
        await self.store.refresh(pairs, self.clock())
        gone = pairs - self.sockets
        if gone:
            await self.store.remove(gone)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("user sockets: heartbeat failed")

    def count(self, key: str) -> int:
        """Sockets open in ``key`` in every process. Synchronous: for tasks."""
        return self.store.count(key, self.clock())


def store_from_settings():
    if getattr(settings, "REDIS_URL", ""):
        return RedisSocketStore(settings.REDIS_URL)
    return MemorySocketStore()


user_sockets = UserSockets(store_from_settings())
