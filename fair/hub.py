"""A process-wide fan-out for broadcast groups that many sockets of a process share
(announcements to everyone, to buyers, to exhibitors).

Giving each socket its own channel-layer channel costs a Redis subscription and a queue per
open page. Instead, the process holds *one* channel, joins a group on the layer when its
first local socket needs it, and hands each broadcast's text (already encoded by
``fair.realtime``) to every local socket of that group. Losing a broadcast (a Redis restart)
is harmless here: pages also render the current announcements on load."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.layers import get_channel_layer

from fair.realtime import EVENT_MESSAGE_TYPE

logger = logging.getLogger(__name__)


class GroupHub:
    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, loop) -> None:
        self._loop = loop
        self.members: dict[str, set] = {}
        self._layer = None
        self._channel: str | None = None
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock() if loop else None

    def _same_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (each test has one): start afresh
            self._reset(loop)

    async def join(self, groups: list[str], consumer) -> None:
        self._same_loop()
        layer = get_channel_layer()
        if layer is None:
            return
        async with self._lock:
            if self._channel is None:
                self._layer = layer
                self._channel = await layer.new_channel("hub.")
                self._reader = asyncio.create_task(self._read())
            for group in groups:
                sockets = self.members.setdefault(group, set())
                if not sockets:
                    await layer.group_add(group, self._channel)
                sockets.add(consumer)

    async def leave(self, groups: list[str], consumer) -> None:
        if self._loop is not asyncio.get_running_loop():
            return
        async with self._lock:
            for group in groups:
                sockets = self.members.get(group)
                if sockets is None:
                    continue
                sockets.discard(consumer)
                if not sockets:
                    del self.members[group]
                    with contextlib.suppress(Exception):
                        await self._layer.group_discard(group, self._channel)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._layer.receive(self._channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer reconnects; keep reading
                logger.exception("group hub receive failed")
                await asyncio.sleep(1)
                continue
            if message.get("type") != EVENT_MESSAGE_TYPE:
                continue
            for consumer in list(self.members.get(message.get("group", ""), ())):
                with contextlib.suppress(Exception):
                    await consumer.send(text_data=message["text"])


hub = GroupHub()
