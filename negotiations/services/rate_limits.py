"""Per-user send limits (SECURITY I): messages per minute over all rooms, uploads per hour.

A fixed window per user in Redis: one ``INCR`` per counted event (one round trip; the
window's first also sets the expiry), on a client kept for the life of the process (a sync
one for HTTP and API writes, an async one per event loop for the websocket consumer, which
counts before it hands the write to a database thread). Without ``REDIS_URL`` (the embedded
demo: one process) the counters live in Django's cache.

Refused or repeated writes give their count back (``*_refund``): a retry of a stored
message (same ``client_id``) or a write refused for another reason never counts."""

from __future__ import annotations

import asyncio
import contextlib
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from fair.exceptions import ApplicationError

#: Uploads a user may send per hour, over all rooms (SECURITY I).
UPLOADS_PER_HOUR = 30
MESSAGE_WINDOW_SECONDS = 60
UPLOAD_WINDOW_SECONDS = 3600


def messages_per_minute() -> int:
    """Messages (text, attachments, quotes) one user may post per minute over all rooms
    (SECURITY I: about 60 for private rooms); ``NEGO_MESSAGES_PER_MINUTE`` overrides it."""
    return int(getattr(settings, "NEGO_MESSAGES_PER_MINUTE", 60))


class Window:
    """One counted event: the window's key, the count after it and the seconds left."""

    __slots__ = ("count", "key", "limit", "retry_after")

    def __init__(self, key: str, count: int, limit: int, retry_after: int) -> None:
        self.key, self.count, self.limit, self.retry_after = key, count, limit, retry_after

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def error(self) -> ApplicationError:
        return ApplicationError(
            _("You are sending too fast. Please wait %(seconds)s seconds.")
            % {"seconds": self.retry_after},
            code="rate_limited",
            extra={"retry_after": self.retry_after},
        )


def _window(user_id: int, kind: str) -> tuple[str, int, int, int]:
    if kind == "upload":
        name, window, limit = "uploads", UPLOAD_WINDOW_SECONDS, UPLOADS_PER_HOUR
    else:
        name, window, limit = "sent", MESSAGE_WINDOW_SECONDS, messages_per_minute()
    now = int(time.time())
    key = f"{settings.REDIS_KEY_PREFIX}:nego:{name}:{user_id}:{now // window}"
    return key, window, limit, window - now % window


_sync_client = None
_async_clients: dict[int, tuple[asyncio.AbstractEventLoop, object]] = {}


def _redis():
    global _sync_client
    if _sync_client is None:
        import redis

        _sync_client = redis.Redis.from_url(settings.REDIS_URL)
    return _sync_client


def _aredis():
    """An async client for the running loop (each test has its own loop)."""
    import redis.asyncio as redis

    loop = asyncio.get_running_loop()
    cached = _async_clients.get(id(loop))
    if cached is None or cached[0] is not loop:
        _async_clients.clear()  # a new loop: the old clients belong to a closed one
        cached = (loop, redis.Redis.from_url(settings.REDIS_URL))
        _async_clients[id(loop)] = cached
    return cached[1]


def _cache_count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window * 2)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window * 2)
        return 1


def count(user_id: int, *, kind: str = "message") -> Window:
    """Count one event now (synchronous callers)."""
    key, window, limit, retry_after = _window(user_id, kind)
    if not getattr(settings, "REDIS_URL", ""):
        return Window(key, _cache_count(key, window), limit, retry_after)
    client = _redis()
    number = int(client.incr(key))
    if number == 1:
        client.expire(key, window * 2)
    return Window(key, number, limit, retry_after)


async def acount(user_id: int, *, kind: str = "message") -> Window:
    """Count one event now, from the event loop: one ``INCR`` (the window's first event also
    sets the key's expiry; a key left without one is only a leak, never a lock-out, as the
    key names its window)."""
    key, window, limit, retry_after = _window(user_id, kind)
    if not getattr(settings, "REDIS_URL", ""):
        return Window(key, _cache_count(key, window), limit, retry_after)
    client = _aredis()
    number = int(await client.incr(key))
    if number == 1:
        await client.expire(key, window * 2)
    return Window(key, number, limit, retry_after)


#: Count one event in each of the first ``ARGV[2]`` keys (a key may repeat): ``INCR``, and
#: ``EXPIRE`` for a window's first event; then ``ZCOUNT`` each of the keys after them from
#: score ``ARGV[3]``. One command for a whole batch: cheaper than a pipeline of commands per
#: key, for the client as for Redis.
_COUNT_MANY = """
local n = tonumber(ARGV[2])
local answers = {}
for i = 1, n do
    local count = redis.call('INCR', KEYS[i])
    if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
    answers[i] = count
end
for i = n + 1, #KEYS do
    answers[i] = redis.call('ZCOUNT', KEYS[i], ARGV[3], '+inf')
end
return answers
"""
_count_many_scripts: dict[int, object] = {}


async def acount_many(
    user_ids: list[int], *, zcount_keys: list[str] = (), zcount_from: float = 0
) -> tuple[list[Window], list[int] | None]:
    """``acount`` of one message for each of ``user_ids`` (repeats count twice), in one
    round trip (the send batches of ``negotiations.send_batch``), which also answers
    ``ZCOUNT key zcount_from +inf`` of each of ``zcount_keys`` (``None`` without Redis)."""
    windows = [_window(user_id, "message") for user_id in user_ids]
    if not getattr(settings, "REDIS_URL", ""):
        return [
            Window(key, _cache_count(key, window), limit, retry_after)
            for key, window, limit, retry_after in windows
        ], None
    if not windows and not zcount_keys:
        return [], []
    client = _aredis()
    script = _count_many_scripts.get(id(client))
    if script is None:
        _count_many_scripts.clear()
        script = _count_many_scripts[id(client)] = client.register_script(_COUNT_MANY)
    answers = await script(
        keys=[key for key, *_rest in windows] + list(zcount_keys),
        args=[MESSAGE_WINDOW_SECONDS * 2, len(windows), repr(float(zcount_from))],
    )
    counted = [
        Window(key, int(number), limit, retry_after)
        for (key, _seconds, limit, retry_after), number in zip(
            windows, answers[: len(windows)], strict=True
        )
    ]
    return counted, [int(number) for number in answers[len(windows) :]]


async def arefund_many(windows: list[Window]) -> None:
    """``arefund`` of each of ``windows``, in one pipelined round trip."""
    if not windows:
        return
    if not getattr(settings, "REDIS_URL", ""):
        for window in windows:
            refund(window)
        return
    pipe = _aredis().pipeline(transaction=False)
    for window in windows:
        pipe.decr(window.key)
    await pipe.execute()


def refund(window: Window) -> None:
    """Give a counted event back (the write was a retry or was refused)."""
    if not getattr(settings, "REDIS_URL", ""):
        with contextlib.suppress(ValueError):
            cache.decr(window.key)
        return
    _redis().decr(window.key)


async def arefund(window: Window) -> None:
    if not getattr(settings, "REDIS_URL", ""):
        refund(window)
        return
    await _aredis().decr(window.key)


def rate_limit(user, *, kind: str = "message") -> Window:
    """Count a write of ``user`` and refuse it (``rate_limited``, with ``retry_after``
    seconds) past the limit; returns the window so a retry can be refunded."""
    window = count(user.pk, kind=kind)
    if window.exceeded:
        raise window.error()
    return window
