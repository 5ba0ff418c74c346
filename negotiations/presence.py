"""Who has a negotiations socket open right now: decides whether a new message is worth an
email (only parties without an open ``/ws/negotiations/`` socket get one).

Per user, a set of ``fair.user_sockets`` (``<REDIS_KEY_PREFIX>:nego:online:<user id>``: the
user's sockets scored by their last heartbeat, refreshed by the process-wide timer there, so
a process that crashed leaves no one "online" for longer than ``STALE_SECONDS``). A user is
online while one of them is. Nothing here is on the message path: the consumer touches
Redis on connect and disconnect; the email task reads one key per recipient.

Without ``REDIS_URL`` (the embedded demo: one process, Celery eager) the same interface is
served from this process's memory."""

from __future__ import annotations

import time

from fair.user_sockets import STALE_SECONDS, UserSockets, user_sockets, user_sockets_key


def presence_key(user_id: int) -> str:
    return user_sockets_key("nego:online", user_id)


def sockets_since() -> float:
    """The oldest heartbeat of a socket still open: ``ZCOUNT key sockets_since() +inf`` of
    ``presence_key(user)`` counts the user's sockets (the send batches read it)."""
    return time.time() - STALE_SECONDS


class _ByUser:
    """The store addressed by user id: what a process writes for a user's socket."""

    def __init__(self, store) -> None:
        self.store = store

    async def add(self, user_id: int, socket: str, now: float) -> None:
        await self.store.add(presence_key(user_id), socket, now)

    async def remove(self, user_id: int, socket: str) -> None:
        await self.store.remove([(presence_key(user_id), socket)])


class Presence:
    """This process's negotiation sockets (kept in ``sockets``, whose timer refreshes
    them)."""

    def __init__(self, sockets: UserSockets) -> None:
        self.sockets = sockets
        self.backend = _ByUser(sockets.store)

    def clock(self) -> float:
        return self.sockets.clock()

    async def connect(self, user_id: int, socket: str) -> None:
        # Presence only decides emails: never refuses a socket (UserSockets.add without a
        # limit always counts it).
        await self.sockets.add(presence_key(user_id), socket)

    async def disconnect(self, user_id: int, socket: str) -> None:
        await self.sockets.remove(presence_key(user_id), socket)

    def online(self, user_id: int) -> bool:
        """Has ``user_id`` a negotiations socket open (in any process)? Synchronous: for the
        email task."""
        return self.sockets.count(presence_key(user_id)) > 0


presence = Presence(user_sockets)
