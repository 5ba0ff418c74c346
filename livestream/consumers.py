"""Websockets of the live-video app: a stream room, and the programme's live updates.

``/ws/live/<session id>/`` (``LiveRoomConsumer``): anyone may watch a public session (not
cancelled, of an approved exhibitor); the exhibitor's own staff may also open its
non-public sessions. Everyone else, and unknown sessions, get the socket closed with 4404
before it opens. Access is decided once, at connect, with one database read
(``livestream.presence.live_room_access``); the fan-out path does no database or permission
work: broadcasts of ``fair.realtime`` (``session.live``, ``session.ended``,
``session.rescheduled``, ``session.cancelled``, ``session.pinned``, ``viewers``) are
forwarded as the text they were encoded to.

On connect the server sends ``{"type": "room.joined", "session": id, "status": "...",
"is_staff": bool}`` and the current ``{"type": "viewers", ...}``; later ``viewers`` frames
come from the presence timer (``livestream.presence``), only when the count changed.

Client actions:

* ``{"type": "ping"}`` -> ``{"type": "pong"}`` (anyone);
* ``{"type": "viewers.list"}`` -> ``{"type": "viewers.list", "session": id, "count": n,
  "viewers": [{"name", "company", "country", "follows_booth"}], "others": k}``: the
  exhibitor's staff only (any role; others get ``forbidden``), at most one every two seconds
  per socket (``rate_limited``). Only buyers who allow it are named; ``others`` counts the
  rest of the room except the company's own staff.

**Room for chat** (its own issue): chat actions (``chat.send``, ``chat.history`` with the
last ``seq`` seen) are added to ``actions`` of this consumer, or of a subclass routed at the
same path, so one socket carries the room. ``self.room`` holds what was decided at connect
(session, exhibitor, whether the user is its staff) and ``self.user_id`` the signed-in
user (``None`` when anonymous): posting needs a login, checked without a query; moderation
rights come from ``self.room.is_staff``. Handlers persist through livestream services (via
``database_sync_to_async``) and broadcast on commit; they never broadcast themselves.

``/ws/live/programme/`` (``ProgrammeConsumer``): anyone; relays the programme group's
``session.*`` events so the "Live now" and programme pages update without a reload."""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async

from fair.consumers import FairJsonConsumer
from fair.realtime import live_session_group
from livestream.presence import RoomAccess, live_room_access, presence, room_viewers_identified
from livestream.services import PROGRAMME_GROUP

#: Close code for a room that does not exist or is not open to this user (before accept).
CLOSE_NOT_FOUND = 4404
#: A staff socket may ask who is watching at most this often.
VIEWERS_LIST_MIN_SECONDS = 2.0


class LiveRoomConsumer(FairJsonConsumer):
    actions = {"ping": "handle_ping", "viewers.list": "handle_viewers_list"}

    room: RoomAccess | None = None
    user_id: int | None = None
    _present = False
    _viewers_listed_at = 0.0

    async def connect(self):
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        user = self.scope.get("user")
        self.room = await database_sync_to_async(live_room_access)(user=user, session_id=session_id)
        if self.room is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        self.groups = [live_session_group(session_id)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        count, peak = await presence.join(session_id, self.channel_name, self.user_id)
        self._present = True
        await self.send_json(
            {
                "type": "room.joined",
                "session": session_id,
                "status": self.room.status,
                "is_staff": self.room.is_staff,
            }
        )
        await self.send_json(
            {"type": "viewers", "session": session_id, "count": count, "peak": peak}
        )

    async def disconnect(self, code):
        if self._present:
            self._present = False
            await presence.leave(self.room.session_id, self.channel_name, self.user_id)

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def handle_viewers_list(self, payload: dict[str, Any]) -> None:
        if not self.room.is_staff:
            await self.send_error(
                "forbidden", "Only the exhibitor's staff can see who is watching."
            )
            return
        now = time.monotonic()
        if now - self._viewers_listed_at < VIEWERS_LIST_MIN_SECONDS:
            await self.send_error("rate_limited", "Asked too often; try again in a moment.")
            return
        self._viewers_listed_at = now
        session_id = self.room.session_id
        user_ids = await presence.user_ids(session_id)
        count, _peak = await presence.snapshot(session_id)
        viewers, staff = await database_sync_to_async(room_viewers_identified)(
            user_ids=user_ids, exhibitor_id=self.room.exhibitor_id
        )
        await self.send_json(
            {
                "type": "viewers.list",
                "session": session_id,
                "count": count,
                "viewers": viewers,
                "others": max(0, count - len(viewers) - staff),
            }
        )


class ProgrammeConsumer(FairJsonConsumer):
    """Anyone: the programme's ``session.live`` / ``session.ended`` / ``session.rescheduled``
    / ``session.cancelled`` events (``{"type", "session", "status", "started_at",
    "ended_at", "exhibitor"}``, nothing private), and ``ping``."""

    actions = {"ping": "handle_ping"}

    async def connect(self):
        self.groups = [PROGRAMME_GROUP]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})
