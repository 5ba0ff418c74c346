"""Text messages of every negotiation socket of a process, stored in batches ("group
commit").

Storing a message on its own costs a hop to a database thread, a Redis round trip for the
sender's rate limit and a PostgreSQL commit; at a thousand messages a second those fixed
costs, not the work, were what a 2-core machine ran out of (``bench/negotiations.py``). So the
consumer hands its send to this process's ``SendBatcher`` and awaits the answer. The
batcher stores whatever sends arrived while its previous batch was being stored, all
together: one pipelined rate-limit round trip, one database call, one transaction
(``services.text_store_many``). Under light load a batch is a single message, stored at once
(nothing waits for a timer); under heavy load batches grow, and the cost per message falls.

At most ``NEGO_SEND_BATCH_MAX`` messages go in one batch and ``IN_FLIGHT`` batch is stored at
a time; ``NEGO_SEND_BATCH_MAX = 1`` stores every message alone, as many at once as the
realtime pool has threads (how it was before: the bench's ``--unbatched`` comparison). The
answers are exactly ``text_store``'s: a ``TextSent`` per message, or the refusal it raised,
delivered to each sender alone, with how many negotiation sockets the sender has open (read
in the rate-limit call: with only the sending one, its own party group is not published
to); a refused or repeated send gives its rate-limit count back.
A batch that fails as a whole (PostgreSQL unavailable) fails each of its senders, who retry
with the same ``client_id`` (nothing was stored)."""

from __future__ import annotations

import asyncio
import logging
import weakref

from django.conf import settings

from fair.db_async import db_async
from negotiations.presence import presence_key, sockets_since
from negotiations.services import messages as message_services
from negotiations.services import rate_limits
from negotiations.services.messages import TextSent, TextToStore

logger = logging.getLogger(__name__)

#: Batches being stored at the same time. One: each PostgreSQL commit costs about 140 us of
#: its CPU here (the WAL flush), so fewer, larger batches leave more CPU for everything else;
#: two in flight measured p99 85 ms at 1,000 msg/s, one 17-22 ms (``bench/negotiations.py``).
IN_FLIGHT = 1


def batch_max() -> int:
    return max(1, int(getattr(settings, "NEGO_SEND_BATCH_MAX", 64)))


def in_flight() -> int:
    """Batches stored at once: ``IN_FLIGHT``; unbatched, each message alone on its own
    thread of the realtime pool (``REALTIME_DB_THREADS``), as before batching."""
    if batch_max() > 1:
        return IN_FLIGHT
    return max(1, int(getattr(settings, "REALTIME_DB_THREADS", 1)))


_store_many = db_async(message_services.text_store_many)


class SendBatcher:
    """One per event loop: ``await batcher.store(...)``."""

    def __init__(self) -> None:
        self._waiting: list[tuple[TextToStore, asyncio.Future]] = []
        self._running = 0
        self._tasks: set[asyncio.Task] = set()

    async def store(
        self, user, negotiation_id: int, client_id: str, body: str
    ) -> tuple[TextSent, int | None]:
        """Store one checked text message (``client_id_check``, ``text_body_check``);
        returns its ``TextSent`` and how many negotiation sockets the sender had open when
        it was counted (``None``: unknown), or raises what ``text_store`` raises."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((TextToStore(user, negotiation_id, client_id, body), future))
        if self._running < in_flight():
            self._running += 1
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                size = batch_max()
                batch, self._waiting = self._waiting[:size], self._waiting[size:]
                try:
                    await self._store(batch)
                except asyncio.CancelledError:  # the loop is shutting down
                    for _item, future in batch:
                        future.cancel()
                    raise
                except Exception as error:  # noqa: BLE001 - handed to every sender
                    logger.exception("negotiation send batch failed")
                    for _item, future in batch:
                        if not future.done():
                            future.set_exception(error)
        finally:
            self._running -= 1

    async def _store(self, batch: list[tuple[TextToStore, asyncio.Future]]) -> None:
        items = [item for item, _future in batch]
        senders = [item.user.pk for item in items]
        sockets: list[int | None] | None = None
        try:
            # With each sender's count, how many negotiation sockets the sender has open.
            windows, sockets = await rate_limits.acount_many(
                senders,
                zcount_keys=[presence_key(user_id) for user_id in senders],
                zcount_from=sockets_since(),
            )
        except Exception:
            logger.exception("negotiation rate limit unavailable")
            windows = [None] * len(items)  # the limit is a guard, not a reason to lose one
        if sockets is None:
            sockets = [None] * len(items)  # unknown: the sender's own group is published to
        items = [
            TextToStore(item.user, item.negotiation_id, item.client_id, item.body, window)
            for item, window in zip(items, windows, strict=True)
        ]
        try:
            results = await _store_many(items)
        except Exception:
            # Nothing was stored: no send of the batch counts.
            await self._refund([window for window in windows if window is not None])
            raise
        refunds = [
            window
            for window, result in zip(windows, results, strict=True)
            if window is not None and not (isinstance(result, TextSent) and result.created)
        ]
        for (_item, future), result, count in zip(batch, results, sockets, strict=True):
            if future.done():  # the sender's socket went away
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result((result, count))
        await self._refund(refunds)

    @staticmethod
    async def _refund(windows: list) -> None:
        if not windows:
            return
        try:
            await rate_limits.arefund_many(windows)
        except Exception:
            logger.exception("negotiation rate limit refund failed")


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SendBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> SendBatcher:
    """This event loop's batcher (tests run a loop each)."""
    loop = asyncio.get_running_loop()
    found = _batchers.get(loop)
    if found is None:
        found = _batchers[loop] = SendBatcher()
    return found
