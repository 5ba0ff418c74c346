"""Who is in a stream room: viewer presence in Redis, viewer counts on a timer, the peak.

Presence lives in Redis, never in one process's memory and never in the database, so every
Daphne process behind the load balancer counts every other's viewers. Per session (keys
``<REDIS_KEY_PREFIX>:live:{<id>}:...``; the ``{<id>}`` hash tag keeps one session's keys on
one Redis Cluster slot, as the Lua scripts need):

* ``users``: sorted set of signed-in user ids, scored by the last heartbeat of any of their
  sockets in the room; ``u:<user id>``: that user's sockets (channel names) with theirs;
* ``anon``: sorted set of anonymous sockets (channel names), scored by their last heartbeat;
* ``peak``: the highest count seen; ``sent``: the count last broadcast; ``tick``: a short
  lock so that one process, not all of them, counts and broadcasts per interval.

The viewer count is *distinct signed-in users plus anonymous sockets* (a buyer with three
tabs open is one viewer). Every member carries the wall-clock time of its last heartbeat;
members older than ``LIVE_PRESENCE_STALE_SECONDS`` (60 s) are ignored and pruned, so a
Daphne process that crashed, or lost its network, leaves no ghost viewers for longer than a
minute. Joining and leaving are one small Lua script each (O(log n)); counting is ``ZCOUNT``
(O(log n)), never a scan of the room.

**Why a per-process timer, not a beat task.** Each Daphne process runs one asyncio task
(started by its first room socket, stopped when it has none left). Every
``LIVE_VIEWERS_INTERVAL`` seconds (5 s) it

1. refreshes the heartbeats of all its own sockets when ``LIVE_PRESENCE_HEARTBEAT_SECONDS``
   (20 s) have passed, in one pipeline (no task or timer per socket), and
2. for each session it has sockets in, takes the session's ``tick`` lock (``SET NX PX``): the
   winner prunes stale members, counts, raises the peak, and broadcasts
   ``{"type": "viewers", "session": id, "count": n, "peak": m}`` to the session group only
   if the count differs from the last one sent.

A Celery beat task could do step 2, but beat's granularity, its queue latency and a worker
round-trip every 5 s for thousands of live sessions would cost more than a timer already
running where the sockets are; and only the processes with sockets need to know about a
room. Step 1 must run in the process holding the sockets anyway. Nothing is broadcast on a
join or a leave: a room of 10,000 people arriving in a minute causes at most 12 broadcasts.

**The fair-wide summary.** The organisers' dashboard needs every live room's count at
once. Rather than counting 5,000 rooms on each read, the tick's winners publish what they
counted (what the rooms were just sent) into two fair-wide sorted sets, one pipeline per
process and tick: ``<prefix>:live:viewers`` (member: session id, score: the count; rooms
at zero are removed) and ``<prefix>:live:viewers:at`` (score: when it was written). A
process whose last socket leaves a room publishes the room's count then (zero removes the
room: an emptied room no longer ticks anywhere). An entry not rewritten for
``LIVE_PRESENCE_STALE_SECONDS`` belongs to a room no running process holds a socket in (a
process with one ticks it every interval), so by then its last viewers are stale too:
readers ignore such entries (``livestream.viewers.viewers_published``).

The peak is written to ``LiveSession.peak_viewers`` lazily, never per join: by the timer
when it rose (at most once a minute per session and process), and when a process's last
socket in a room leaves; the UPDATE only ever raises the stored value.

**Embedded demo.** Without ``REDIS_URL`` (one process, in-memory channel layer) the same
interface is served from this process's memory (``MemoryBackend``); it cannot see other
processes, which the embedded default never has.

The asyncio Redis client is built once per event loop (a Daphne process has one) from
``REDIS_URL`` with an explicitly sized, blocking connection pool
(``LIVE_PRESENCE_REDIS_MAX_CONNECTIONS``, default 20): under load, callers wait for a
connection rather than opening hundreds.

The room's database reads (who may join, who may be named to the exhibitor's staff) are
here too: the consumer does no ORM work itself and calls them once per connect / request
through ``database_sync_to_async``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import Count, Q

from exhibitors.models import Exhibitor
from exhibitors.selectors import membership_get
from fair.models import User
from fair.realtime import asend_event, live_session_group
from livestream.models import LiveSession

logger = logging.getLogger(__name__)

#: Keys of a room live this long after its last join or heartbeat (the peak: two days).
KEY_TTL_SECONDS = 6 * 60 * 60
PEAK_TTL_SECONDS = 2 * 24 * 60 * 60
#: The timer writes a risen peak to the database at most this often per session.
PEAK_SAVE_SECONDS = 60
#: At most this many signed-in viewers are looked at for "who is watching".
VIEWERS_LIST_MAX_IDS = 2000
VIEWERS_LIST_MAX_NAMES = 200


def viewers_interval() -> float:
    return float(getattr(settings, "LIVE_VIEWERS_INTERVAL", 5.0))


def heartbeat_seconds() -> float:
    return float(getattr(settings, "LIVE_PRESENCE_HEARTBEAT_SECONDS", 20.0))


def stale_seconds() -> float:
    return float(getattr(settings, "LIVE_PRESENCE_STALE_SECONDS", 60.0))


# --- Room access and identities (database reads, once per connect / request) ----------------


@dataclass(frozen=True)
class RoomAccess:
    session_id: int
    exhibitor_id: int
    status: str
    #: The user is staff (any role) of the session's exhibitor.
    is_staff: bool
    chat_slow_mode: int = 0
    chat_pinned_seq: int | None = None


def live_room_access(*, user, session_id: int) -> RoomAccess | None:
    """May ``user`` join the room of session ``session_id``? Anyone may join a public
    session (not cancelled, of an approved exhibitor); the exhibitor's own staff may also
    join its cancelled sessions and those of a pending or suspended company. ``None`` for
    everyone else, exactly as for a session that does not exist."""
    row = (
        LiveSession.objects.filter(pk=session_id)
        .values(
            "exhibitor_id",
            "status",
            "exhibitor__status",
            "chat_slow_mode_seconds",
            "chat_pinned_seq",
        )
        .first()
    )
    if row is None:
        return None
    is_staff = bool(
        user is not None
        and user.is_authenticated
        and membership_get(user=user, exhibitor_id=row["exhibitor_id"]) is not None
    )
    public = (
        row["status"] != LiveSession.Status.CANCELLED
        and row["exhibitor__status"] == Exhibitor.Status.APPROVED
    )
    if not public and not is_staff:
        return None
    return RoomAccess(
        session_id=session_id,
        exhibitor_id=row["exhibitor_id"],
        status=row["status"],
        is_staff=is_staff,
        chat_slow_mode=row["chat_slow_mode_seconds"],
        chat_pinned_seq=row["chat_pinned_seq"],
    )


def room_viewers_identified(*, user_ids: list[int], exhibitor_id: int) -> tuple[list[dict], int]:
    """Of the signed-in users ``user_ids`` in a room: the buyers who allow exhibitors to see
    them (``show_identity_in_rooms``), as ``{"name", "company", "country", "follows_booth"}``
    sorted by name, and how many of ``user_ids`` are the exhibitor's own staff. Nobody who
    has not consented is ever named. Two queries, whatever the number of viewers."""
    if not user_ids:
        return [], 0
    rows = (
        User.objects.filter(
            pk__in=user_ids, is_active=True, buyer_profile__show_identity_in_rooms=True
        )
        .exclude(exhibitor_memberships__exhibitor_id=exhibitor_id)
        .annotate(follows_booth=Count("follows", filter=Q(follows__exhibitor_id=exhibitor_id)))
        .order_by("full_name", "pk")
        .values(
            "full_name",
            "buyer_profile__company",
            "buyer_profile__country",
            "follows_booth",
        )[:VIEWERS_LIST_MAX_NAMES]
    )
    viewers = [
        {
            "name": row["full_name"],
            "company": row["buyer_profile__company"],
            "country": str(row["buyer_profile__country"] or ""),
            "follows_booth": row["follows_booth"] > 0,
        }
        for row in rows
    ]
    staff = (
        User.objects.filter(pk__in=user_ids, exhibitor_memberships__exhibitor_id=exhibitor_id)
        .distinct()
        .count()
    )
    return viewers, staff


def peak_viewers_save(*, session_id: int, peak: int) -> int:
    """Raise the stored peak to ``peak`` (never lowers it). Returns rows changed."""
    return LiveSession.objects.filter(pk=session_id, peak_viewers__lt=peak).update(
        peak_viewers=peak
    )


# --- Backends ------------------------------------------------------------------------------

_JOIN = """
-- KEYS: users, anon, user's sockets, peak; ARGV: now, cutoff, socket, user id or '', ttl,
-- peak ttl
if ARGV[4] == '' then
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
else
  redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
local count = redis.call('ZCOUNT', KEYS[1], ARGV[2], '+inf')
  + redis.call('ZCOUNT', KEYS[2], ARGV[2], '+inf')
local peak = tonumber(redis.call('GET', KEYS[4]) or '0')
if count > peak then peak = count end
redis.call('SET', KEYS[4], peak, 'EX', ARGV[6])
return {count, peak}
"""

_LEAVE = """
-- KEYS: users, anon, user's sockets; ARGV: socket, user id or '', cutoff
if ARGV[2] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[3])
if redis.call('ZCARD', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[1], ARGV[2])
end
return 1
"""

_TICK = """
-- KEYS: users, anon, peak, sent, tick lock; ARGV: cutoff, lock ms, peak ttl, ttl
if not redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[2]) then
  return {0, 0, 0, 0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
local count = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local peak = tonumber(redis.call('GET', KEYS[3]) or '0')
if count > peak then
  peak = count
  redis.call('SET', KEYS[3], peak, 'EX', ARGV[3])
end
local sent = redis.call('GET', KEYS[4])
local changed = 0
if (not sent) or tonumber(sent) ~= count then
  changed = 1
  redis.call('SET', KEYS[4], count, 'EX', ARGV[4])
end
return {1, count, peak, changed}
"""


@dataclass(frozen=True)
class Tick:
    acquired: bool
    count: int
    peak: int
    changed: bool


class RedisBackend:
    """Presence in Redis, shared by every process (see the module docstring)."""

    def __init__(self, url: str, *, prefix: str, max_connections: int) -> None:
        self.url = url
        self.prefix = prefix
        self.max_connections = max_connections
        self._client = None
        self._client_loop = None
        self._scripts: dict[str, object] = {}

    @property
    def client(self):
        return self._for_this_loop()

    def _for_this_loop(self):
        """One client per event loop (a Daphne process has one loop; each test has its own,
        and a pool's connections cannot cross loops)."""
        import redis.asyncio as redis

        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            pool = redis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=self.max_connections,
                timeout=5,
                decode_responses=True,
            )
            self._client = redis.Redis(connection_pool=pool)
            self._client_loop = loop
            self._scripts = {
                name: self._client.register_script(source)
                for name, source in (("join", _JOIN), ("leave", _LEAVE), ("tick", _TICK))
            }
        return self._client

    def key(self, session_id: int, name: str) -> str:
        return f"{self.prefix}:live:{{{session_id}}}:{name}"

    def summary_keys(self) -> tuple[str, str]:
        """The fair-wide counts and their write times (see the module docstring)."""
        return summary_keys(self.prefix)

    async def publish(self, counts: dict[int, int], now: float) -> None:
        """Write rooms' counts into the fair-wide summary (zero removes a room). One
        pipeline, no transaction: the two keys may sit on different Cluster slots."""
        if not counts:
            return
        viewers, at = self.summary_keys()
        present = {str(sid): count for sid, count in counts.items() if count > 0}
        gone = [str(sid) for sid, count in counts.items() if count <= 0]
        pipe = self.client.pipeline(transaction=False)
        if present:
            pipe.zadd(viewers, present)
            pipe.zadd(at, dict.fromkeys(present, now))
            pipe.expire(viewers, KEY_TTL_SECONDS)
            pipe.expire(at, KEY_TTL_SECONDS)
        if gone:
            pipe.zrem(viewers, *gone)
            pipe.zrem(at, *gone)
        await pipe.execute()

    def _script(self, name: str):
        self._for_this_loop()
        return self._scripts[name]

    async def join(self, session_id: int, socket: str, user_id: int | None, now: float):
        count, peak = await self._script("join")(
            keys=[
                self.key(session_id, "users"),
                self.key(session_id, "anon"),
                self.key(session_id, f"u:{user_id or ''}"),
                self.key(session_id, "peak"),
            ],
            args=[
                now,
                now - stale_seconds(),
                socket,
                user_id or "",
                KEY_TTL_SECONDS,
                PEAK_TTL_SECONDS,
            ],
        )
        return int(count), int(peak)

    async def leave(self, session_id: int, socket: str, user_id: int | None, now: float):
        await self._script("leave")(
            keys=[
                self.key(session_id, "users"),
                self.key(session_id, "anon"),
                self.key(session_id, f"u:{user_id or ''}"),
            ],
            args=[socket, user_id or "", now - stale_seconds()],
        )

    async def heartbeat(self, sockets: dict[int, dict[str, int | None]], now: float) -> None:
        """Refresh every given socket (``{session: {socket: user id or None}}``) at once."""
        pipe = self.client.pipeline(transaction=False)
        for session_id, room in sockets.items():
            users, anon = self.key(session_id, "users"), self.key(session_id, "anon")
            for socket, user_id in room.items():
                if user_id is None:
                    pipe.zadd(anon, {socket: now})
                else:
                    mine = self.key(session_id, f"u:{user_id}")
                    pipe.zadd(mine, {socket: now})
                    pipe.expire(mine, KEY_TTL_SECONDS)
                    pipe.zadd(users, {str(user_id): now})
            pipe.expire(users, KEY_TTL_SECONDS)
            pipe.expire(anon, KEY_TTL_SECONDS)
        await pipe.execute()

    async def tick(self, session_id: int, now: float, lock_seconds: float) -> Tick:
        acquired, count, peak, changed = await self._script("tick")(
            keys=[
                self.key(session_id, "users"),
                self.key(session_id, "anon"),
                self.key(session_id, "peak"),
                self.key(session_id, "sent"),
                self.key(session_id, "tick"),
            ],
            args=[
                now - stale_seconds(),
                max(1, int(lock_seconds * 1000)),
                PEAK_TTL_SECONDS,
                KEY_TTL_SECONDS,
            ],
        )
        return Tick(bool(acquired), int(count), int(peak), bool(changed))

    async def snapshot(self, session_id: int, now: float) -> tuple[int, int]:
        """The current count and the peak, without pruning or locking."""
        cutoff = now - stale_seconds()
        pipe = self.client.pipeline(transaction=False)
        pipe.zcount(self.key(session_id, "users"), cutoff, "+inf")
        pipe.zcount(self.key(session_id, "anon"), cutoff, "+inf")
        pipe.get(self.key(session_id, "peak"))
        users, anon, peak = await pipe.execute()
        return int(users) + int(anon), int(peak or 0)

    async def user_ids(self, session_id: int, now: float, limit: int) -> list[int]:
        """Signed-in users in the room, the most recently seen first."""
        ids = await self.client.zrevrangebyscore(
            self.key(session_id, "users"), "+inf", now - stale_seconds(), start=0, num=limit
        )
        return [int(i) for i in ids]

    async def user_socket_count(self, session_id: int, user_id: int, now: float) -> int:
        """How many live sockets this user has in the room (every process)."""
        return int(
            await self.client.zcount(
                self.key(session_id, f"u:{user_id}"), now - stale_seconds(), "+inf"
            )
        )


@dataclass
class _MemoryRoom:
    users: dict[int, dict[str, float]] = field(default_factory=dict)
    anon: dict[str, float] = field(default_factory=dict)
    peak: int = 0
    sent: int | None = None


class MemoryBackend:
    """The embedded demo's presence (no ``REDIS_URL``): this process's memory only."""

    def __init__(self) -> None:
        self.rooms: dict[int, _MemoryRoom] = {}
        #: The fair-wide summary: {session id: (count, when written)}.
        self.published: dict[int, tuple[int, float]] = {}

    async def publish(self, counts: dict[int, int], now: float) -> None:
        for session_id, count in counts.items():
            if count > 0:
                self.published[session_id] = (count, now)
            else:
                self.published.pop(session_id, None)

    def _room(self, session_id: int) -> _MemoryRoom:
        return self.rooms.setdefault(session_id, _MemoryRoom())

    def _count(self, room: _MemoryRoom, now: float) -> int:
        cutoff = now - stale_seconds()
        users = sum(1 for s in room.users.values() if s and max(s.values()) >= cutoff)
        return users + sum(1 for seen in room.anon.values() if seen >= cutoff)

    async def join(self, session_id: int, socket: str, user_id: int | None, now: float):
        room = self._room(session_id)
        if user_id is None:
            room.anon[socket] = now
        else:
            room.users.setdefault(user_id, {})[socket] = now
        room.peak = max(room.peak, self._count(room, now))
        return self._count(room, now), room.peak

    async def leave(self, session_id: int, socket: str, user_id: int | None, now: float):
        room = self._room(session_id)
        if user_id is None:
            room.anon.pop(socket, None)
            return
        mine = room.users.get(user_id, {})
        mine.pop(socket, None)
        if not mine:
            room.users.pop(user_id, None)

    async def heartbeat(self, sockets: dict[int, dict[str, int | None]], now: float) -> None:
        for session_id, sockets_of_room in sockets.items():
            room = self._room(session_id)
            for socket, user_id in sockets_of_room.items():
                if user_id is None:
                    room.anon[socket] = now
                else:
                    room.users.setdefault(user_id, {})[socket] = now

    async def tick(self, session_id: int, now: float, lock_seconds: float) -> Tick:
        room = self._room(session_id)
        cutoff = now - stale_seconds()
        room.anon = {s: seen for s, seen in room.anon.items() if seen >= cutoff}
        room.users = {
            u: fresh
            for u, socks in room.users.items()
            if (fresh := {s: seen for s, seen in socks.items() if seen >= cutoff})
        }
        count = self._count(room, now)
        room.peak = max(room.peak, count)
        changed = room.sent != count
        room.sent = count
        return Tick(True, count, room.peak, changed)

    async def snapshot(self, session_id: int, now: float) -> tuple[int, int]:
        room = self._room(session_id)
        return self._count(room, now), room.peak

    async def user_ids(self, session_id: int, now: float, limit: int) -> list[int]:
        cutoff = now - stale_seconds()
        room = self._room(session_id)
        seen = {u: max(s.values()) for u, s in room.users.items() if s}
        fresh = sorted((u for u, t in seen.items() if t >= cutoff), key=lambda u: -seen[u])
        return fresh[:limit]

    async def user_socket_count(self, session_id: int, user_id: int, now: float) -> int:
        cutoff = now - stale_seconds()
        sockets = self._room(session_id).users.get(user_id, {})
        return sum(1 for at in sockets.values() if at >= cutoff)


# --- The process's presence: its own sockets, the timer, the peak --------------------------


class Presence:
    """This process's view: which of its sockets are in which room, the timer task that
    refreshes them and broadcasts counts, and lazy peak saving. ``save_peaks`` off never
    touches the database; ``run_timer`` off leaves ``tick`` to the caller (tests)."""

    def __init__(
        self, backend, *, save_peaks: bool = True, run_timer: bool = True, clock=time.time
    ) -> None:
        self.backend = backend
        self.save_peaks = save_peaks
        self.run_timer = run_timer
        self.clock = clock
        self._reset(None)

    def _reset(self, loop) -> None:
        self._loop = loop
        #: {session id: {socket (channel name): user id or None}}
        self.sockets: dict[int, dict[str, int | None]] = {}
        self._task: asyncio.Task | None = None
        self._last_heartbeat = 0.0
        #: {session id: (peak last written, when)}
        self._peak_saved: dict[int, tuple[int, float]] = {}

    def _same_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (each test has one): start afresh
            self._reset(loop)

    async def join(self, session_id: int, socket: str, user_id: int | None) -> tuple[int, int]:
        """Count a socket in the room; returns ``(count, peak)`` now. Starts the timer."""
        self._same_loop()
        count, peak = await self.backend.join(session_id, socket, user_id, self.clock())
        self.sockets.setdefault(session_id, {})[socket] = user_id
        if self.run_timer and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run())
        return count, peak

    async def leave(self, session_id: int, socket: str, user_id: int | None) -> None:
        """Stop counting a socket. A process's last socket in a room writes the room's peak
        if it rose; its last socket at all stops the timer."""
        self._same_loop()
        room = self.sockets.get(session_id, {})
        room.pop(socket, None)
        try:
            await self.backend.leave(session_id, socket, user_id, self.clock())
            if not room:
                self.sockets.pop(session_id, None)
                now = self.clock()
                count, peak = await self.backend.snapshot(session_id, now)
                # This process no longer ticks the room: leave its summary entry right (an
                # emptied room leaves the summary; other processes' ticks keep theirs).
                await self.backend.publish({session_id: count}, now)
                await self._peak_save(session_id, peak, force=True)
                self._peak_saved.pop(session_id, None)
        finally:
            if not self.sockets and self._task is not None:
                task, self._task = self._task, None
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def snapshot(self, session_id: int) -> tuple[int, int]:
        return await self.backend.snapshot(session_id, self.clock())

    async def user_ids(self, session_id: int) -> list[int]:
        return await self.backend.user_ids(session_id, self.clock(), VIEWERS_LIST_MAX_IDS)

    async def user_socket_count(self, session_id: int, user_id: int) -> int:
        return await self.backend.user_socket_count(session_id, user_id, self.clock())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(viewers_interval())
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis hiccup: keep the timer alive, try again next time
                logger.exception("live presence tick failed")

    async def tick(self) -> list[dict]:
        """One round of the timer: heartbeats when due, then per room (if this process wins
        the room's lock) a ``viewers`` broadcast when the count changed. Returns the events
        broadcast."""
        now = self.clock()
        rooms = {sid: dict(room) for sid, room in self.sockets.items() if room}
        if rooms and now - self._last_heartbeat >= heartbeat_seconds():
            await self.backend.heartbeat(rooms, now)
            self._last_heartbeat = now
        sent = []
        counted: dict[int, int] = {}
        lock = viewers_interval() * 0.8
        for session_id in rooms:
            tick = await self.backend.tick(session_id, now, lock)
            if not tick.acquired:
                continue
            counted[session_id] = tick.count
            if tick.changed:
                event = {
                    "type": "viewers",
                    "session": session_id,
                    "count": tick.count,
                    "peak": tick.peak,
                }
                await asend_event(live_session_group(session_id), event)
                sent.append(event)
            await self._peak_save(session_id, tick.peak)
        # Every count won, changed or not: the write time tells readers the room is ticked.
        await self.backend.publish(counted, now)
        return sent

    async def _peak_save(self, session_id: int, peak: int, *, force: bool = False) -> None:
        if not self.save_peaks or peak <= 0:
            return
        saved, at = self._peak_saved.get(session_id, (0, 0.0))
        now = self.clock()
        if peak <= saved or (not force and now - at < PEAK_SAVE_SECONDS):
            return
        await database_sync_to_async(peak_viewers_save)(session_id=session_id, peak=peak)
        self._peak_saved[session_id] = (peak, now)


def summary_keys(prefix: str) -> tuple[str, str]:
    """The fair-wide summary's keys: the rooms' counts and when each was written."""
    return f"{prefix}:live:viewers", f"{prefix}:live:viewers:at"


def backend_from_settings():
    if getattr(settings, "REDIS_URL", ""):
        return RedisBackend(
            settings.REDIS_URL,
            prefix=settings.REDIS_KEY_PREFIX,
            max_connections=int(getattr(settings, "LIVE_PRESENCE_REDIS_MAX_CONNECTIONS", 20)),
        )
    return MemoryBackend()


#: The process's presence, used by the live room consumer.
presence = Presence(backend_from_settings())
