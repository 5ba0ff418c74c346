"""Viewer counts of many rooms at once, read from synchronous code (organiser pages, the
dashboard, exports): the same Redis keys ``livestream.presence`` keeps, read with one
pipelined round trip whatever the number of sessions.

``viewers_published`` reads every room at once from the fair-wide summary the presence
ticks write (the counts the rooms were last sent, at most one interval old): two Redis
commands whatever the number of live rooms, for the dashboard. ``room_figures`` counts the
given rooms themselves (two or three commands per room), for pages listing a few rooms.

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

from livestream.presence import MemoryBackend, presence, stale_seconds, summary_keys

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


def viewers_published(session_ids: Iterable[int]) -> dict[int, int]:
    """``{session id: viewers}`` of the given rooms as their presence ticks last published
    them (0 for a room without an entry), in one round trip of two commands whatever the
    number of rooms: the whole summary (one entry per room with viewers) and the ids of
    entries no process has rewritten within the stale window, which count as 0. Those are
    deleted afterwards (a rare second round trip; a tick republishing such a room at that
    very moment loses its entry until its next tick, one interval later)."""
    wanted = set(session_ids)
    if not wanted:
        return {}
    now = time.time()
    cutoff = now - stale_seconds()
    client = _redis()
    if client is None:
        return _memory_published(wanted, cutoff)
    viewers_key, at_key = summary_keys(settings.REDIS_KEY_PREFIX)
    pipe = client.pipeline(transaction=False)
    # The raw reply: the client's callback would re-encode and cast each score in Python.
    pipe.execute_command("ZRANGE", viewers_key, 0, -1, "WITHSCORES")
    pipe.zrangebyscore(at_key, "-inf", f"({cutoff}")
    try:
        published, stale = pipe.execute()
        if stale:
            cleanup = client.pipeline(transaction=False)
            cleanup.zrem(viewers_key, *stale)
            cleanup.zremrangebyscore(at_key, "-inf", f"({cutoff}")
            cleanup.execute()
    except redis.RedisError:
        logger.warning("viewer counts unavailable: Redis error", exc_info=True)
        return dict.fromkeys(wanted, 0)
    by_room = {int(member): int(count) for member, count in _pairs(published)}
    for member in stale:
        by_room.pop(int(member), None)
    return {session_id: by_room.get(session_id, 0) for session_id in wanted}


def _pairs(reply: list) -> Iterable:
    """``ZRANGE ... WITHSCORES`` without the client's per-entry callback: RESP3 answers
    ``[[member, score], ...]``, RESP2 ``[member, score, ...]``."""
    if reply and isinstance(reply[0], list):
        return reply
    flat = iter(reply)
    return zip(flat, flat, strict=True)


def _memory_published(wanted: set[int], cutoff: float) -> dict[int, int]:
    """The embedded demo: this process's own summary."""
    backend = presence.backend
    published = backend.published if isinstance(backend, MemoryBackend) else {}
    counts = dict.fromkeys(wanted, 0)
    for session_id, (count, at) in list(published.items()):
        if at < cutoff:
            published.pop(session_id, None)
        elif session_id in wanted:
            counts[session_id] = count
    return counts
