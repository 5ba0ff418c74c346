"""Fan-out of a stream room's broadcasts inside one server process, batched per room.

A room of 2,000 viewers receiving 10 chat messages a second is 20,000 websocket frames a
second. Measured here, stock Channels spends 100-185 us of CPU per delivery (each socket has
its own channel-layer queue, a task wake-up per message, a thread hop per handler), and a
channel-layer group with one member per socket makes Redis and the layer do per-socket work.
So a process does the work once per room, not once per socket:

* **One subscription per room per process.** ``RoomFanout`` (one per event loop, i.e. per
  Daphne process) joins the room's group (``fair.realtime.live_session_group``) on the
  channel layer with a single channel of its own when the first local socket enters, and
  keeps a set of the room's local consumers. Redis publishes each broadcast once to each
  process that has viewers in the room.
* **Encode once, forward as is.** Broadcasts arrive already encoded (``fair.realtime``); the
  text is never decoded or re-encoded here (slow-mode changes excepted, which are rare).
* **Batch per room per tick.** The first broadcast after a quiet period goes out at the next
  turn of the event loop; broadcasts arriving within ``LIVE_FANOUT_TICK_MS`` (default 50 ms)
  of the previous frame are collected and sent together as one frame
  ``{"type": "batch", "session": id, "events": [...]}`` (the events' texts joined, not
  re-encoded). A busy room costs one frame per tick per socket, however many messages; a
  quiet room adds no delay at all.
* **Nothing per receiver** but handing the shared frame to the server (``base_send``): no
  database, no permission check, no JSON work, no queue.

Anonymous viewers do not even get a channel-layer channel (``LiveRoomConsumer``): everything
they receive comes from here.

**Reactions** (like, applause) are counted in memory per room and merged once a second: the
process adds its counts to the room's totals in Redis and, if it wins the room's one-second
lock, broadcasts ``{"type": "reactions", "session": id, "totals": {...}}`` when the totals
changed. However many processes and clicks, a room gets at most one ``reactions`` frame a
second. Without Redis (the embedded demo, one process) the same happens in memory.

Losing a broadcast (a Redis restart drops pub/sub messages) never loses a chat message:
messages are stored first and numbered without gaps, and clients fetch what they missed
(``chat.resume``). The channel layer reconnects and this module re-subscribes its rooms."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

from channels.layers import get_channel_layer
from django.conf import settings

from fair.realtime import EVENT_MESSAGE_TYPE, asend_event, live_session_group

logger = logging.getLogger(__name__)

REACTION_KINDS = ("like", "applause")
#: After this long with no local socket, a room's subscription is dropped.
UNSUBSCRIBE_AFTER_SECONDS = 30.0
#: A process keeps ticking a room's reactions this long after its last local reaction, so
#: totals it added are broadcast even if another process held the lock that second.
REACTIONS_LINGER_SECONDS = 3.0


def tick_seconds() -> float:
    return float(getattr(settings, "LIVE_FANOUT_TICK_MS", 50)) / 1000.0


def reactions_interval() -> float:
    return float(getattr(settings, "LIVE_REACTIONS_INTERVAL", 1.0))


@dataclass(eq=False)
class _Room:
    session_id: int
    group: str
    sockets: set = field(default_factory=set)
    subscribed: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: list[str] = field(default_factory=list)
    flush_task: asyncio.Task | None = None
    last_flush: float = 0.0
    slow_mode: int = 0
    sweep: asyncio.TimerHandle | None = None
    reactions: dict[str, int] = field(default_factory=dict)
    reacted_at: float = -1e9


# --- Reaction totals: Redis (shared) or memory (embedded) -----------------------------------

_REACTIONS_TICK = """
-- KEYS: totals hash, last version sent, tick lock
-- ARGV: like increment, applause increment, lock ms, ttl
local inc_like = tonumber(ARGV[1])
local inc_applause = tonumber(ARGV[2])
if inc_like > 0 or inc_applause > 0 then
  redis.call('HINCRBY', KEYS[1], 'like', inc_like)
  redis.call('HINCRBY', KEYS[1], 'applause', inc_applause)
  redis.call('HINCRBY', KEYS[1], 'v', 1)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then
  return {0, 0, 0}
end
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v == (redis.call('GET', KEYS[2]) or '0') then
  return {0, 0, 0}
end
redis.call('SET', KEYS[2], v, 'EX', ARGV[4])
return {1, tonumber(redis.call('HGET', KEYS[1], 'like') or '0'),
        tonumber(redis.call('HGET', KEYS[1], 'applause') or '0')}
"""

REACTIONS_TTL_SECONDS = 2 * 24 * 60 * 60


class RedisReactions:
    def __init__(self, backend) -> None:
        self.backend = backend  # livestream.presence.RedisBackend: its per-loop client
        self._script = None
        self._client = None

    def _tick_script(self):
        client = self.backend.client
        if self._client is not client:
            self._client = client
            self._script = client.register_script(_REACTIONS_TICK)
        return self._script

    async def tick(self, session_id: int, increments: dict[str, int], lock_ms: int):
        key = self.backend.key
        changed, like, applause = await self._tick_script()(
            keys=[
                key(session_id, "reactions"),
                key(session_id, "reactions_sent"),
                key(session_id, "reactions_tick"),
            ],
            args=[
                increments.get("like", 0),
                increments.get("applause", 0),
                lock_ms,
                REACTIONS_TTL_SECONDS,
            ],
        )
        return {"like": int(like), "applause": int(applause)} if changed else None

    async def totals(self, session_id: int) -> dict[str, int]:
        like, applause = await self.backend.client.hmget(
            self.backend.key(session_id, "reactions"), "like", "applause"
        )
        return {"like": int(like or 0), "applause": int(applause or 0)}


class MemoryReactions:
    def __init__(self) -> None:
        self._totals: dict[int, dict[str, int]] = {}
        self._sent: dict[int, tuple[int, int]] = {}

    async def tick(self, session_id: int, increments: dict[str, int], lock_ms: int):
        totals = self._totals.setdefault(session_id, {"like": 0, "applause": 0})
        for kind, count in increments.items():
            totals[kind] += count
        state = (totals["like"], totals["applause"])
        if self._sent.get(session_id) == state:
            return None
        self._sent[session_id] = state
        return dict(totals)

    async def totals(self, session_id: int) -> dict[str, int]:
        return dict(self._totals.get(session_id, {"like": 0, "applause": 0}))


# --- The hub ----------------------------------------------------------------------------------


class RoomFanout:
    """This process's rooms: their local sockets, the subscription, batching, reactions."""

    def __init__(self, reactions=None) -> None:
        self.reactions_store = reactions
        self._reset(None)

    def _reset(self, loop) -> None:
        self._loop = loop
        self.rooms: dict[int, _Room] = {}
        self._by_group: dict[str, _Room] = {}
        self._layer = None
        self._channel: str | None = None
        self._channel_ready: asyncio.Future | None = None
        self._reader: asyncio.Task | None = None
        self._reactions_task: asyncio.Task | None = None

    def _same_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (each test has one): start afresh
            self._reset(loop)
        return loop

    # Joining and leaving ------------------------------------------------------------------

    async def join(self, session_id: int, consumer, *, slow_mode: int = 0) -> None:
        """Add a socket to its room; returns once the room's broadcasts reach this process
        (so whatever the caller reads from the database next cannot fall in a gap)."""
        self._same_loop()
        room = self.rooms.get(session_id)
        if room is None:
            group = live_session_group(session_id)
            room = _Room(session_id=session_id, group=group, slow_mode=slow_mode)
            self.rooms[session_id] = room
            self._by_group[group] = room
        if room.sweep is not None:
            room.sweep.cancel()
            room.sweep = None
        room.sockets.add(consumer)
        async with room.lock:
            if not room.subscribed:
                room.slow_mode = slow_mode
                layer, channel = await self._hub_channel()
                await layer.group_add(room.group, channel)
                room.subscribed = True

    async def leave(self, session_id: int, consumer) -> None:
        self._same_loop()
        room = self.rooms.get(session_id)
        if room is None:
            return
        room.sockets.discard(consumer)
        if not room.sockets and room.sweep is None:
            room.sweep = self._loop.call_later(
                UNSUBSCRIBE_AFTER_SECONDS, lambda: self._loop.create_task(self._drop(room))
            )

    async def _drop(self, room: _Room) -> None:
        room.sweep = None
        async with room.lock:
            if room.sockets or not room.subscribed:
                return
            room.subscribed = False
            with contextlib.suppress(Exception):
                await self._layer.group_discard(room.group, self._channel)
            if not room.sockets and self.rooms.get(room.session_id) is room:
                del self.rooms[room.session_id]
                self._by_group.pop(room.group, None)

    def local_count(self, session_id: int) -> int:
        room = self.rooms.get(session_id)
        return len(room.sockets) if room else 0

    def slow_mode(self, session_id: int) -> int:
        room = self.rooms.get(session_id)
        return room.slow_mode if room else 0

    # Receiving from the channel layer -----------------------------------------------------

    async def _hub_channel(self):
        if self._channel_ready is None:
            self._channel_ready = self._loop.create_future()
            try:
                self._layer = get_channel_layer()
                self._channel = await self._layer.new_channel(prefix="fanout.")
            except BaseException as error:
                self._channel_ready.set_exception(error)
                self._channel_ready = None
                raise
            self._channel_ready.set_result(None)
            self._reader = self._loop.create_task(self._read())
        else:
            await asyncio.shield(self._channel_ready)
        return self._layer, self._channel

    async def _read(self) -> None:
        while True:
            try:
                message = await self._layer.receive(self._channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer's connection failed: it reconnects; keep reading
                logger.exception("room fan-out: channel layer receive failed")
                await asyncio.sleep(0.5)
                continue
            if message.get("type") != EVENT_MESSAGE_TYPE:
                continue
            room = self._by_group.get(message.get("group", ""))
            if room is not None:
                self.deliver(room, message["text"])

    def deliver(self, room: _Room, text: str) -> None:
        """Queue an encoded broadcast for the room's sockets (batched, see the module)."""
        if text.startswith('{"type":"chat.slow_mode"'):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                room.slow_mode = int(json.loads(text)["seconds"])
        room.pending.append(text)
        if room.flush_task is None:
            delay = max(0.0, room.last_flush + tick_seconds() - self._loop.time())
            room.flush_task = self._loop.create_task(self._flush(room, delay))

    async def _flush(self, room: _Room, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)  # let broadcasts already queued join this frame
        room.flush_task = None
        room.last_flush = self._loop.time()
        texts, room.pending = room.pending, []
        if not texts:
            return
        if len(texts) == 1:
            frame = texts[0]
        else:
            frame = f'{{"type":"batch","session":{room.session_id},"events":[{",".join(texts)}]}}'
        message = {"type": "websocket.send", "text": frame}
        for consumer in tuple(room.sockets):
            try:
                await consumer.base_send(message)
            except Exception:  # one broken socket must not stop the room
                logger.debug("room fan-out: send failed", exc_info=True)

    # Reactions ----------------------------------------------------------------------------

    def react(self, session_id: int, kind: str) -> None:
        room = self.rooms.get(session_id)
        if room is None or kind not in REACTION_KINDS:
            return
        room.reactions[kind] = room.reactions.get(kind, 0) + 1
        room.reacted_at = self._loop.time()
        if self._reactions_task is None or self._reactions_task.done():
            self._reactions_task = self._loop.create_task(self._reactions_run())

    async def reaction_totals(self, session_id: int) -> dict[str, int]:
        try:
            return await self.reactions_store.totals(session_id)
        except Exception:
            logger.warning("reaction totals unavailable", exc_info=True)
            return {"like": 0, "applause": 0}

    async def _reactions_run(self) -> None:
        interval = reactions_interval()
        while True:
            await asyncio.sleep(interval)
            active = [
                room
                for room in self.rooms.values()
                if room.reactions or self._loop.time() - room.reacted_at < REACTIONS_LINGER_SECONDS
            ]
            if not active:
                return
            for room in active:
                increments, room.reactions = room.reactions, {}
                try:
                    totals = await self.reactions_store.tick(
                        room.session_id, increments, int(interval * 900)
                    )
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.warning("reactions tick failed", exc_info=True)
                    for kind, count in increments.items():  # keep them for the next second
                        room.reactions[kind] = room.reactions.get(kind, 0) + count
                    continue
                if totals is not None:
                    await asend_event(
                        room.group,
                        {"type": "reactions", "session": room.session_id, "totals": totals},
                    )


def reactions_from_settings():
    from livestream.presence import RedisBackend, presence  # noqa: PLC0415

    if isinstance(presence.backend, RedisBackend):
        return RedisReactions(presence.backend)
    return MemoryReactions()


#: The process's room fan-out, used by ``LiveRoomConsumer``.
fanout = RoomFanout(reactions_from_settings())
