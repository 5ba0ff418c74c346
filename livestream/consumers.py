"""Websockets of the live-video app: a stream room with its chat, and the programme.

``/ws/live/<session id>/`` (``LiveRoomConsumer``): anyone may watch a public session (not
cancelled, of an approved exhibitor); the exhibitor's own staff may also open its
non-public sessions. Everyone else, and unknown sessions, get the socket closed with 4404
before it opens; a signed-in user with ``LIVE_ROOM_MAX_SOCKETS_PER_USER`` (5) sockets in the
room already gets 4429. Access and the chat identity are decided once, at connect (two
short reads); the fan-out path does no database or permission work: the room's broadcasts
reach the socket through ``livestream.fanout`` (one subscription per room per process,
batched per room per tick), and anonymous sockets have no channel-layer channel at all.
The session limits of exhibitor owners/admins and organisers apply as on every socket
(``fair.consumers``): a lapsed session joins as anonymous, an open socket closes with 4401.

On connect the server sends, in order, ``room.joined`` (status, ``is_staff`` and ``chat``:
``can_post``, ``is_moderator``, ``reason`` ("", "sign_in", "banned", "muted", "closed"),
``muted_until``, ``slow_mode``), ``viewers`` (count, peak) and ``chat.history`` (the last 50
messages, or with ``?after=<seq>`` those after it, at most 200 with ``complete`` false when
more follow; the pinned message; reaction totals). Broadcasts may arrive any time after
``room.joined``, also before ``chat.history``: the socket joins the room's fan-out before
history is read, so no message can fall between the two (the client drops duplicates by
``seq``). Live messages from different server processes may arrive slightly out of order
(each process broadcasts when its own transaction commits): clients order by ``seq``, which
has no gaps, and ask for a gap that stays open (``chat.resume``).

Broadcasts (any may arrive packed in ``{"type": "batch", "session", "events": [...]}``):
``chat.message``, ``chat.hidden``, ``chat.unhidden``, ``chat.pinned``, ``chat.answered``,
``chat.slow_mode``, ``reactions`` (at most one a second), ``viewers`` (presence timer, when
changed), ``session.live`` / ``ended`` / ``rescheduled`` / ``cancelled`` / ``pinned``. To one user:
``chat.restriction`` (muted or banned).

Client actions (errors are ``{"type": "error", "code", "detail", ...}``):

* ``ping`` -> ``pong`` (anyone);
* ``viewers.list`` -> who is watching, the exhibitor's staff only (see ``presence``);
* ``chat.send`` ``{client_id, body, question}`` (signed in) -> ``chat.ack`` ``{client_id,
  seq, sent_at}``, then everyone gets ``chat.message``. Stored before it is broadcast and
  idempotent on ``client_id`` (a retry gets the same ack). Errors carry ``client_id``:
  ``sign_in_required``, ``invalid``, ``muted`` (``until``), ``banned``, ``rate_limited`` and
  ``slow_mode`` (``retry_after`` seconds), ``chat_closed``, ``unavailable``;
* ``chat.resume`` ``{after}`` -> ``chat.history`` with the messages after ``after``;
* ``chat.report`` ``{seq, reason}`` (signed in) -> ``chat.reported``;
* ``react`` ``{kind: like | applause}`` (signed in) -> ``react.ack``;
* moderators only (the exhibitor's staff, organisers; others get ``forbidden``):
  ``chat.questions`` -> ``chat.questions``; ``chat.answer``, ``chat.pin``, ``chat.hide``,
  ``chat.unhide`` (-> ``chat.unhidden`` with the message), ``chat.slow_mode`` -> their
  broadcast; ``chat.mute`` ``{seq, minutes}`` and ``chat.ban`` ``{seq}`` ->
  ``chat.restricted`` to the moderator, ``chat.restriction`` to the user. Hide, unhide,
  mute, ban and slow mode changes are written to the audit log (``fair.audit``).

``/ws/live/programme/`` (``ProgrammeConsumer``): anyone; relays the programme group's
``session.*`` events so the "Live now" and programme pages update without a reload."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from fair.consumers import FairJsonConsumer
from fair.db_async import db_async
from fair.exceptions import ApplicationError
from fair.security_log import ws_denied
from livestream import chat
from livestream.chat_limits import OK, RATE_LIMITED, limiter
from livestream.fanout import REACTION_KINDS, fanout
from livestream.models import ChatRestriction
from livestream.presence import RoomAccess, live_room_access, presence, room_viewers_identified
from livestream.services import PROGRAMME_GROUP

#: Close code for a room that does not exist or is not open to this user (before accept).
CLOSE_NOT_FOUND = 4404
#: Close code when the user already has the most sockets allowed in this room.
CLOSE_TOO_MANY = 4429
#: A staff socket may ask who is watching at most this often.
VIEWERS_LIST_MIN_SECONDS = 2.0
#: Reactions per socket per second beyond this are answered with rate_limited.
REACTIONS_PER_SECOND = 10


def _room_open(*, user, session_id: int):
    """One database hop at connect: access, then the chat identity and restriction."""
    room = live_room_access(user=user, session_id=session_id)
    if room is None:
        return None, None, None
    identity = chat.chat_identity(user=user, exhibitor_id=room.exhibitor_id, is_staff=room.is_staff)
    restriction = None
    if identity is not None and not identity.is_moderator:
        restriction = chat.restriction_active(
            user_id=identity.user_id, exhibitor_id=room.exhibitor_id
        )
    return room, identity, restriction


def _history(*, session_id: int, after: int | None, pinned_seq: int | None):
    messages, more = chat.chat_history(session_id=session_id, after=after)
    pinned = chat.chat_pinned(session_id=session_id, seq=pinned_seq)
    return messages, more, pinned


# The hot paths (every connect, every message) run on the realtime database pool.
_room_open_async = db_async(_room_open)
_history_async = db_async(_history)
_existing_async = db_async(chat.chat_message_existing)
_send_async = db_async(chat.chat_message_send)
_POOLED = {_send_async}


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


class LiveRoomConsumer(FairJsonConsumer):
    #: What a person does, not the page by itself: keeps a privileged session from idling.
    activity_actions = frozenset(
        {"chat.send", "chat.report", "react", "chat.answer", "chat.pin", "chat.hide",
         "chat.unhide", "chat.slow_mode", "chat.mute", "chat.ban"}
    )  # fmt: skip
    actions = {
        "ping": "handle_ping",
        "viewers.list": "handle_viewers_list",
        "chat.send": "handle_chat_send",
        "chat.resume": "handle_chat_resume",
        "chat.report": "handle_chat_report",
        "react": "handle_react",
        "chat.questions": "handle_chat_questions",
        "chat.answer": "handle_chat_answer",
        "chat.pin": "handle_chat_pin",
        "chat.hide": "handle_chat_hide",
        "chat.unhide": "handle_chat_unhide",
        "chat.slow_mode": "handle_chat_slow_mode",
        "chat.mute": "handle_chat_mute",
        "chat.ban": "handle_chat_ban",
    }

    # Signed-in sockets get a channel-layer channel (their user group: log-out, mutes);
    # anonymous ones need none: the room reaches them through the fan-out.
    anonymous_without_channel = True
    room: RoomAccess | None = None
    identity: chat.ChatIdentity | None = None
    user_id: int | None = None
    _present = False
    _joined = False
    _viewers_listed_at = 0.0
    _reactions_second = 0
    _reactions_count = 0

    async def connect(self):
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        user = self.scope.get("user")
        self.room, self.identity, restriction = await _room_open_async(
            user=user, session_id=session_id
        )
        if self.room is None:
            ws_denied(self, reason="not_found", close_code=CLOSE_NOT_FOUND, live_session=session_id)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        if self.user_id is not None:
            sockets = await presence.user_socket_count(session_id, self.user_id)
            if sockets >= int(getattr(settings, "LIVE_ROOM_MAX_SOCKETS_PER_USER", 5)):
                await self.close(code=CLOSE_TOO_MANY)
                return
        self.groups = []
        await self.accept()
        # room.joined first; broadcasts may arrive any time after it (also before history).
        await self.send_json(
            {
                "type": "room.joined",
                "session": session_id,
                "status": self.room.status,
                "is_staff": self.room.is_staff,
                "chat": self._chat_state(restriction),
            }
        )
        await fanout.join(session_id, self, slow_mode=self.room.chat_slow_mode)
        self._joined = True
        count, peak = await presence.join(session_id, self.channel_name, self.user_id)
        self._present = True
        await self.send_json(
            {"type": "viewers", "session": session_id, "count": count, "peak": peak}
        )
        after = None
        raw_after = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("after")
        if raw_after and raw_after[0].isdigit():
            after = int(raw_after[0])
        await self._send_history(after=after)

    def _chat_state(self, restriction: ChatRestriction | None) -> dict:
        reason, until = "", None
        if self.identity is None:
            reason = "sign_in"
        elif restriction is not None:
            reason = chat.RESTRICTION_REASONS[restriction.kind]
            until = chat.iso(restriction.until) if restriction.until else None
        elif self.room.status not in chat.OPEN_STATUSES:
            reason = "closed"
        return {
            "can_post": reason == "",
            "is_moderator": bool(self.identity and self.identity.is_moderator),
            "reason": reason,
            "muted_until": until,
            "slow_mode": self.room.chat_slow_mode,
        }

    async def _send_history(self, *, after: int | None) -> None:
        session_id = self.room.session_id
        messages, more, pinned = await _history_async(
            session_id=session_id, after=after, pinned_seq=self.room.chat_pinned_seq
        )
        await self.send_json(
            {
                "type": "chat.history",
                "session": session_id,
                "messages": messages,
                "pinned": pinned,
                "reactions": await fanout.reaction_totals(session_id),
                "more_before": more if after is None else bool(messages and messages[0]["seq"] > 1),
                "resumed": after is not None,
                "complete": True if after is None else not more,
            }
        )

    async def disconnect(self, code):
        if self._joined:
            self._joined = False
            await fanout.leave(self.room.session_id, self)
        if self._present:
            self._present = False
            await presence.leave(self.room.session_id, self.channel_name, self.user_id)

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def handle_viewers_list(self, payload: dict[str, Any]) -> None:
        if not self.room.is_staff:
            ws_denied(self, reason="not_staff", error="forbidden", action="viewers.list")
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

    # --- Chat ---------------------------------------------------------------------------

    async def _need_sign_in(self, **extra: Any) -> bool:
        if self.identity is None:
            await self.send_error(
                "sign_in_required", _("Sign in to take part in the chat."), **extra
            )
            return True
        return False

    async def _need_moderator(self) -> bool:
        if await self._need_sign_in():
            return True
        if not self.identity.is_moderator:
            ws_denied(self, reason="not_moderator", error="forbidden")
            await self.send_error(
                "forbidden", _("Only the exhibitor's staff and organisers can do that.")
            )
            return True
        return False

    async def _run(self, function, **kwargs):
        """Run a chat service in the database thread; rule violations become error frames
        (``None`` is returned then)."""
        extra = {"client_id": kwargs["client_id"]} if "client_id" in kwargs else {}
        call = function if function in _POOLED else database_sync_to_async(function)
        try:
            return await call(**kwargs)
        except ApplicationError as error:
            await self.send_error(error.code, error.message, **error.extra, **extra)
        except Http404:
            ws_denied(self, reason="not_found", error="not_found", operation=function.__name__)
            await self.send_error("not_found", _("That does not exist."), **extra)
        except PermissionDenied as error:
            ws_denied(self, reason="forbidden", error="forbidden", operation=function.__name__)
            detail = str(error) or _("You cannot do that.")
            await self.send_error("forbidden", detail, **extra)
        return None

    async def handle_chat_send(self, payload: dict[str, Any]) -> None:
        raw_id = payload.get("client_id")
        echo = {"client_id": raw_id if isinstance(raw_id, str) else None}
        if await self._need_sign_in(**echo):
            return
        try:
            client_id = chat.clean_client_id(raw_id)
            chat.clean_body(payload.get("body"))
        except ApplicationError as error:
            await self.send_error(error.code, error.message, **echo)
            return
        session_id = self.room.session_id
        slow = 0 if self.identity.is_moderator else fanout.slow_mode(session_id)
        try:
            verdict = await limiter.check(session_id, self.identity.user_id, client_id, slow)
        except Exception:  # Redis unreachable: refuse clearly; the page retries the same id
            await self.send_error(
                "unavailable",
                _("The chat is briefly unavailable. Your message will be sent again."),
                retry_after=2,
                **echo,
            )
            return
        if verdict.code != OK:
            # A retry of a message already stored is answered, not limited.
            existing = await _existing_async(
                session_id=session_id, user_id=self.identity.user_id, client_id=client_id
            )
            if existing is not None:
                await self._ack(client_id, existing)
                return
            wait = max(1, round(verdict.retry_after + 0.49))
            if verdict.code == RATE_LIMITED:
                detail = _("You are sending messages too fast. Try again in %(seconds)d s.")
                code = "rate_limited"
            else:
                detail = _("Slow mode is on: one message every %(slow)d s. Wait %(seconds)d s.")
                code = "slow_mode"
            await self.send_error(
                code, detail % {"seconds": wait, "slow": slow}, retry_after=wait, **echo
            )
            return
        result = await self._run(
            _send_async,
            session_id=session_id,
            identity=self.identity,
            client_id=client_id,
            body=payload.get("body"),
            is_question=payload.get("question") is True,
        )
        if result is not None:
            await self._ack(client_id, result)

    async def _ack(self, client_id: str, result: chat.SendResult) -> None:
        await self.send_json(
            {
                "type": "chat.ack",
                "session": self.room.session_id,
                "client_id": client_id,
                "seq": result.seq,
                "sent_at": result.sent_at,
            }
        )

    async def handle_chat_resume(self, payload: dict[str, Any]) -> None:
        after = _int_or_none(payload.get("after"))
        if after is None:
            await self.send_error("invalid", _("Say after which message to resume."))
            return
        await self._send_history(after=after)

    async def handle_chat_report(self, payload: dict[str, Any]) -> None:
        if await self._need_sign_in():
            return
        created = await self._run(
            chat.chat_message_report,
            user=self.scope["user"],
            session_id=self.room.session_id,
            seq=payload.get("seq"),
            reason=payload.get("reason", ""),
        )
        if created is not None:
            await self.send_json(
                {"type": "chat.reported", "session": self.room.session_id, "seq": payload["seq"]}
            )

    async def handle_react(self, payload: dict[str, Any]) -> None:
        if await self._need_sign_in():
            return
        kind = payload.get("kind")
        if kind not in REACTION_KINDS:
            await self.send_error("invalid", _("Unknown reaction."))
            return
        second = int(time.monotonic())
        if second != self._reactions_second:
            self._reactions_second, self._reactions_count = second, 0
        self._reactions_count += 1
        if self._reactions_count > REACTIONS_PER_SECOND:
            await self.send_error("rate_limited", _("Too many reactions at once."), retry_after=1)
            return
        fanout.react(self.room.session_id, kind)
        await self.send_json({"type": "react.ack", "kind": kind})

    async def handle_chat_questions(self, payload: dict[str, Any]) -> None:
        if await self._need_moderator():
            return
        questions = await database_sync_to_async(chat.chat_questions_open)(
            session_id=self.room.session_id
        )
        await self.send_json(
            {"type": "chat.questions", "session": self.room.session_id, "questions": questions}
        )

    async def _moderate(self, function, **kwargs) -> Any:
        if await self._need_moderator():
            return None
        return await self._run(
            function, user=self.scope["user"], session_id=self.room.session_id, **kwargs
        )

    async def handle_chat_answer(self, payload: dict[str, Any]) -> None:
        await self._moderate(chat.chat_question_answer, seq=payload.get("seq"))

    async def handle_chat_pin(self, payload: dict[str, Any]) -> None:
        seq = payload.get("seq")
        await self._moderate(chat.chat_message_pin, seq=None if seq is None else seq)

    async def handle_chat_hide(self, payload: dict[str, Any]) -> None:
        await self._moderate(chat.chat_message_hide, seq=payload.get("seq"))

    async def handle_chat_unhide(self, payload: dict[str, Any]) -> None:
        await self._moderate(chat.chat_message_unhide, seq=payload.get("seq"))

    async def handle_chat_slow_mode(self, payload: dict[str, Any]) -> None:
        await self._moderate(chat.chat_slow_mode_set, seconds=payload.get("seconds"))

    async def handle_chat_mute(self, payload: dict[str, Any]) -> None:
        await self._restrict(payload, ChatRestriction.Kind.MUTE)

    async def handle_chat_ban(self, payload: dict[str, Any]) -> None:
        await self._restrict(payload, ChatRestriction.Kind.BAN)

    async def _restrict(self, payload: dict[str, Any], kind: str) -> None:
        restriction = await self._moderate(
            chat.chat_user_restrict,
            seq=payload.get("seq"),
            kind=kind,
            minutes=payload.get("minutes"),
        )
        if restriction is None:
            return
        await self.send_json(
            {
                "type": "chat.restricted",
                "session": self.room.session_id,
                "seq": payload.get("seq"),
                "kind": kind,
                "name": restriction.message.author_name if restriction.message else "",
                "until": chat.iso(restriction.until) if restriction.until else None,
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
