"""How fast one user may post in one room: a sliding window and the room's slow mode.

Shared by every server process through Redis (one small Lua script per message: the window
is a sorted set of the user's recent message ids, scored by time; slow mode a key that lives
for the slow-mode interval), so opening a second tab or landing on another process gives no
extra allowance. Without Redis (the embedded demo, one process) the same rules run in memory.

The window: at most ``LIVE_CHAT_RATE_COUNT`` (5) messages per ``LIVE_CHAT_RATE_SECONDS``
(10) per user per room; the answer to one more is ``rate_limited`` with how long to wait.
Moderators (the exhibitor's staff, organisers) are not slowed by slow mode."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

_CHECK = """
-- KEYS: the user's window (zset), the user's slow-mode key
-- ARGV: now ms, window ms, limit, slow-mode ms (0 = off), member
local now = tonumber(ARGV[1])
-- The same message again (a retry, or one sent on two sockets at once) is not counted twice.
if redis.call('ZSCORE', KEYS[1], ARGV[5]) then return {0, 0} end
local slow = tonumber(ARGV[4])
if slow > 0 then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then return {2, ttl} end
end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window)
if slow > 0 then redis.call('SET', KEYS[2], '1', 'PX', slow) end
return {0, 0}
"""

OK, RATE_LIMITED, SLOW_MODE = 0, 1, 2


@dataclass(frozen=True)
class Verdict:
    code: int
    retry_after: float  # seconds


def rate_count() -> int:
    return int(getattr(settings, "LIVE_CHAT_RATE_COUNT", 5))


def rate_window_ms() -> int:
    return int(float(getattr(settings, "LIVE_CHAT_RATE_SECONDS", 10)) * 1000)


class RedisLimiter:
    def __init__(self, backend) -> None:
        self.backend = backend  # livestream.presence.RedisBackend: its per-loop client
        self._client = None
        self._script = None

    async def check(
        self, session_id: int, user_id: int, member: str, slow_mode_seconds: int
    ) -> Verdict:
        client = self.backend.client
        if self._client is not client:
            self._client = client
            self._script = client.register_script(_CHECK)
        key = self.backend.key
        code, wait_ms = await self._script(
            keys=[key(session_id, f"rate:{user_id}"), key(session_id, f"slow:{user_id}")],
            args=[
                int(time.time() * 1000),
                rate_window_ms(),
                rate_count(),
                int(slow_mode_seconds) * 1000,
                member,
            ],
        )
        return Verdict(int(code), max(0.0, int(wait_ms) / 1000.0))


class MemoryLimiter:
    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._windows: dict[tuple[int, int], list[tuple[float, str]]] = {}
        self._slow: dict[tuple[int, int], float] = {}

    async def check(
        self, session_id: int, user_id: int, member: str, slow_mode_seconds: int
    ) -> Verdict:
        now = self.clock()
        key = (session_id, user_id)
        window = rate_window_ms() / 1000.0
        recent = [(at, m) for at, m in self._windows.get(key, []) if at > now - window]
        self._windows[key] = recent
        if any(m == member for _at, m in recent):
            return Verdict(OK, 0.0)
        if slow_mode_seconds > 0 and self._slow.get(key, 0.0) > now:
            return Verdict(SLOW_MODE, self._slow[key] - now)
        if len(recent) >= rate_count():
            return Verdict(RATE_LIMITED, recent[0][0] + window - now)
        recent.append((now, member))
        self._windows[key] = recent
        if slow_mode_seconds > 0:
            self._slow[key] = now + slow_mode_seconds
        return Verdict(OK, 0.0)


def limiter_from_settings():
    from livestream.presence import RedisBackend, presence  # noqa: PLC0415

    if isinstance(presence.backend, RedisBackend):
        return RedisLimiter(presence.backend)
    return MemoryLimiter()


#: The process's chat limiter, used by ``LiveRoomConsumer``.
limiter = limiter_from_settings()
