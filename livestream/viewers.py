"""Viewer counts of many rooms at once, read from synchronous code (organiser pages, the
dashboard, exports): the same Redis keys ``livestream.presence`` keeps, read with one
pipelined round trip whatever the number of sessions.

A count is *distinct signed-in users plus anonymous sockets* seen within the presence's
stale window, exactly as the room's own ``viewers`` frames count. Redis trouble is logged
and answered with zeros: a page of figures must not fail because a counter is away."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis
from django.conf import settings

from livestream.presence import MemoryBackend, presence, stale_seconds

logger = logging.getLogger(__name__)

_pool: redis.ConnectionPool | None = None
_pool_url: str | None = None


@dataclass(frozen=True)
class RoomFigures:
    viewers: int
    peak: int


def _redis() -> redis.Redis | None:
    """A client on the module-wide pool, or None in the embedded demo (no Redis)."""
    global _pool, _pool_url
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    if _pool is None or _pool_url != url:
        _pool = redis.ConnectionPool.from_url(url, max_connections=10, decode_responses=True)
        _pool_url = url
    return redis.Redis(connection_pool=_pool)


def _key(session_id: int, name: str) -> str:
    # As livestream.presence.RedisBackend.key: the hash tag keeps a room on one slot.
    return f"{settings.REDIS_KEY_PREFIX}:live:{{{session_id}}}:{name}"


def room_figures(session_ids: Iterable[int], *, with_peak: bool = True) -> dict[int, RoomFigures]:
    """``{session id: RoomFigures(viewers now, peak)}`` for every given session, in one
    Redis round trip (2 commands per session, 3 with the peak; pipelined, no transaction:
    the keys of different rooms live on different Cluster slots)."""
    ids = list(dict.fromkeys(session_ids))
    if not ids:
        return {}
    now = time.time()
    client = _redis()
    if client is None:
        return _memory_figures(ids, now)
    cutoff = now - stale_seconds()
    per_room = 3 if with_peak else 2
    pipe = client.pipeline(transaction=False)
    for session_id in ids:
        pipe.zcount(_key(session_id, "users"), cutoff, "+inf")
        pipe.zcount(_key(session_id, "anon"), cutoff, "+inf")
        if with_peak:
            pipe.get(_key(session_id, "peak"))
    try:
        replies = pipe.execute()
    except redis.RedisError:
        logger.warning("viewer counts unavailable: Redis error", exc_info=True)
        return {session_id: RoomFigures(0, 0) for session_id in ids}
    figures = {}
    for index, session_id in enumerate(ids):
        users, anon, *peak = replies[index * per_room : (index + 1) * per_room]
        figures[session_id] = RoomFigures(int(users) + int(anon), int(peak[0] or 0) if peak else 0)
    return figures


def _memory_figures(ids: list[int], now: float) -> dict[int, RoomFigures]:
    """The embedded demo: this process's own presence (it has no other process)."""
    backend = presence.backend
    if not isinstance(backend, MemoryBackend):
        return {session_id: RoomFigures(0, 0) for session_id in ids}
    figures = {}
    for session_id in ids:
        room = backend.rooms.get(session_id)
        count = backend._count(room, now) if room is not None else 0
        figures[session_id] = RoomFigures(count, room.peak if room is not None else 0)
    return figures


def viewers_now(session_ids: Iterable[int]) -> dict[int, int]:
    figures = room_figures(session_ids, with_peak=False)
    return {sid: room.viewers for sid, room in figures.items()}
