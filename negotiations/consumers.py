"""``/ws/negotiations/``: one socket per signed-in user carrying every room they are a party
to.

**Connect.** Signed-in, active users only; anyone else is closed with 4401 before the socket
opens. ``FairJsonConsumer.accept`` joins the user's own group (``fair.realtime.user_group``,
for a log-out elsewhere) and the socket joins the user's negotiation group
(``events.party_group``): every event of every room the user is a party to arrives there,
because the services broadcast to the party groups of the room's buyer and each of its
staff members. So the fan-out path does no database or permission work at all: broadcasts
are forwarded as the text they were encoded to. On accept the server sends ``{"type":
"nego.ready", "unread": <rooms with unread messages>}``. The socket is recorded in
``negotiations.presence`` (a user with a socket open gets no offline emails). An exhibitor
owner's or admin's socket is closed with 4401 once the session lapses (the session limits,
``fair.consumers._SessionWatch``); a lapsed session is refused at the handshake with 4401.

**Actions** (every one names its room; the party check runs in the service or selector, so a
room of someone else answers ``not_found`` exactly like a missing one):

* ``{"type": "nego.send", "negotiation": id, "client_id": "<uuid>", "body": "..."}`` ->
  ``{"type": "nego.ack", "negotiation": id, "client_id", "seq", "sent_at"}`` once stored; the
  ``nego.message`` broadcast goes to every socket of both parties except the sending one
  (the ack tells it everything: it shows its own text with the acked ``seq``; the user's
  other sockets get the broadcast). When presence counts exactly one socket of the sender
  (read with the rate-limit count, in the same Redis call), nothing is published to the
  sender's own party group: nobody is there but the sending socket. (A tab whose socket
  registers between that count and the commit, and whose resume ran before the commit,
  sees the message when the room's next message reveals the gap, or on reload.) Sending the same
  ``client_id`` again gives the same ack and no second message.
* ``{"type": "nego.resume", "negotiation": id, "after": seq}`` -> ``{"type": "nego.history",
  "negotiation": id, "messages": [...], "complete": bool, "resumed": true}`` (at most 200;
  ask again from the last seq while ``complete`` is false). Used after a reconnect and when
  a client sees a gap in sequence numbers.
* ``{"type": "nego.typing", "negotiation": id}`` -> ``{"type": "nego.typing", "negotiation",
  "side", "name"}`` to the other parties' sockets (nothing stored, no reply; at most one per
  room every two seconds per socket). The room's audience is read once and kept
  ``AUDIENCE_SECONDS``.
* ``{"type": "nego.read", "negotiation": id, "seq": n}`` -> the ``nego.read`` broadcast to both
  parties (read receipts), when the marker moved.
* ``{"type": "ping"}`` -> ``{"type": "pong"}``.

Errors: ``{"type": "error", "code", "detail", "negotiation"?, "client_id"?, "retry_after"?}``
with ``code`` in ``invalid``, ``not_found``, ``closed``, ``read_only`` (the exhibitor is
suspended: the room can be read, nobody writes), ``exhibitor_unavailable``, ``rate_limited``,
``server_error`` (nothing was stored: retry with the same ``client_id``).

**Order and deliveries.** A socket's actions run one after the other, in the order they
arrived, on a task of their own: while a send waits for the database, broadcasts to this
socket (the channel layer's messages) keep flowing. A send is stored by one statement
(``services.text_store``) on the realtime database pool, together with the other sends of
the process that arrived meanwhile (``send_batch``: one rate-limit round trip, one
transaction per batch), and its broadcast is published from the event loop once it
committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from django.http import Http404
from django.utils.translation import gettext as _

from fair.consumers import FairJsonConsumer
from fair.db_async import db_async
from fair.exceptions import ApplicationError
from fair.realtime import layer_message
from fair.security_log import ws_denied
from negotiations import events, selectors, send_batch, services
from negotiations.events import party_group
from negotiations.presence import presence

logger = logging.getLogger(__name__)

#: Close code before accept for a visitor who is not signed in.
CLOSE_SIGN_IN = 4401
#: How long a room's typing audience is reused before it is read again.
AUDIENCE_SECONDS = 30.0
TYPING_MIN_SECONDS = 2.0
#: Actions a socket may have waiting; one more is refused (a client flooding the socket).
MAX_QUEUED_ACTIONS = 100
#: How long a closing socket waits for its action in progress (a send being stored).
CLOSE_WAIT_SECONDS = 10.0
#: The channel-layer key naming the one socket a broadcast skips (the sender's).
EXCEPT_KEY = "except"


def _room_id(payload: dict) -> int | None:
    value = payload.get("negotiation")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _resume(user, negotiation_id: int, after: int) -> dict:
    negotiation, _party = selectors.negotiation_for_party(user=user, negotiation_id=negotiation_id)
    messages, complete = selectors.messages_after(negotiation=negotiation, after_seq=after)
    return {
        "type": "nego.history",
        "negotiation": negotiation_id,
        "messages": [events.message_json(m) for m in messages],
        "complete": complete,
        "resumed": True,
    }


def _typing_audience(user, negotiation_id: int) -> tuple[dict, list[int]]:
    party, others = selectors.negotiation_audience(user=user, negotiation_id=negotiation_id)
    event = {
        "type": "nego.typing",
        "negotiation": negotiation_id,
        "side": party.side,
        "name": user.full_name or user.get_short_name(),
    }
    return event, others


class NegotiationConsumer(FairJsonConsumer):
    #: What a person does (typing and sending keep a privileged session from going idle).
    activity_actions = frozenset({"nego.send", "nego.typing"})
    actions = {
        "ping": "handle_ping",
        "nego.send": "handle_send",
        "nego.resume": "handle_resume",
        "nego.typing": "handle_typing",
        "nego.read": "handle_read",
    }

    user = None
    _present = False
    _worker: asyncio.Task | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            ws_denied(self, reason="not_signed_in", close_code=CLOSE_SIGN_IN)
            await self.close(code=CLOSE_SIGN_IN)
            return
        self.user = user
        self.groups = []
        #: {room id: (typing event, other parties' ids, read at)}
        self._audiences: dict[int, tuple[dict, list[int], float]] = {}
        self._typed_at: dict[int, float] = {}
        self._backlog: deque = deque()
        await self.accept()  # joins user_group(user.pk)
        group = party_group(user.pk)
        self.groups = [*self.groups, group]
        await self.channel_layer.group_add(group, self.channel_name)
        await presence.connect(user.pk, self.channel_name)
        self._present = True
        unread = await database_sync_to_async(selectors.negotiations_unread_count)(user=user)
        await self.send_json({"type": "nego.ready", "unread": unread})

    async def disconnect(self, code):
        if self._worker is not None and not self._worker.done():
            # Actions not started are dropped (unacknowledged: the client sends them again);
            # the one in progress finishes, so a stored message is also broadcast.
            self._backlog.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._worker), CLOSE_WAIT_SECONDS)
        if self._present:
            self._present = False
            await presence.disconnect(self.user.pk, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Queue the frame for this socket's action task (see "Order and deliveries")."""
        if len(self._backlog) >= MAX_QUEUED_ACTIONS:
            await self._error("rate_limited", _("Too many actions at once."), retry_after=1)
            return
        self._backlog.append((text_data, bytes_data))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while self._backlog:
            text_data, bytes_data = self._backlog.popleft()
            try:
                await super().receive(text_data=text_data, bytes_data=bytes_data)
            except Exception:
                logger.exception("negotiation socket action failed")

    async def realtime_event(self, message: dict[str, str]) -> None:
        """A broadcast, forwarded as encoded, except to the socket that sent it (acked)."""
        if message.get(EXCEPT_KEY) == self.channel_name:
            return
        await self.send(text_data=message["text"])

    async def _error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_error(code, detail, **{k: v for k, v in extra.items() if v is not None})

    async def _call(self, function, *args, negotiation: int | None, client_id=None, runner=None):
        """Run a database call (``runner``: ``function`` already made awaitable); turn
        refusals into error frames. Returns None when refused."""
        try:
            # The realtime pool: several threads, no per-call health-check query.
            return await (runner or db_async(function))(*args)
        except ApplicationError as error:
            await self._error(
                error.code,
                error.message,
                negotiation=negotiation,
                client_id=client_id,
                **error.extra,
            )
        except Http404:
            # One answer for "missing" and "not yours" (no existence leak).
            ws_denied(self, reason="not_found", error="not_found", negotiation=negotiation)
            await self._error(
                "not_found", _("No such negotiation."), negotiation=negotiation, client_id=client_id
            )
        except Exception:
            logger.exception("negotiation action failed")
            await self._error(
                "server_error",
                _("Something went wrong; nothing was stored. Try again."),
                negotiation=negotiation,
                client_id=client_id,
            )
        return None

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def handle_send(self, payload: dict[str, Any]) -> None:
        room = _room_id(payload)
        client_id = payload.get("client_id") if isinstance(payload.get("client_id"), str) else ""
        if room is None:
            await self._error("invalid", _("Name the negotiation."), client_id=client_id or None)
            return
        try:
            client_id = services.client_id_check(client_id)
            body = services.text_body_check(payload.get("body"))
        except ApplicationError as error:
            await self._error(
                error.code, error.message, negotiation=room, client_id=client_id or None
            )
            return
        stored = await self._call(
            None, self.user, room, client_id, body,
            negotiation=room, client_id=client_id, runner=send_batch.batcher().store,
        )  # fmt: skip
        if stored is None:
            return
        sent, sender_sockets = stored
        ack = self.send(text_data=layer_message(sent.ack())["text"])
        if not sent.created:
            await ack
            return
        message = layer_message(sent.event(self.user))
        message[EXCEPT_KEY] = self.channel_name
        layer = self.channel_layer
        me = self.user.pk
        await asyncio.gather(
            ack,
            *(
                layer.group_send(party_group(uid), message)
                for uid in sent.audience
                if uid != me or sender_sockets != 1  # None (unknown) or 0: trust nothing
            ),
        )

    async def handle_resume(self, payload: dict[str, Any]) -> None:
        room = _room_id(payload)
        after = payload.get("after", 0)
        if room is None or isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self._error("invalid", _("Name the negotiation and the last seq seen."))
            return
        history = await self._call(_resume, self.user, room, after, negotiation=room)
        if history is not None:
            await self.send(text_data=layer_message(history)["text"])

    async def handle_typing(self, payload: dict[str, Any]) -> None:
        room = _room_id(payload)
        if room is None:
            await self._error("invalid", _("Name the negotiation."))
            return
        now = time.monotonic()
        if now - self._typed_at.get(room, 0.0) < TYPING_MIN_SECONDS:
            return
        self._typed_at[room] = now
        cached = self._audiences.get(room)
        if cached is None or now - cached[2] > AUDIENCE_SECONDS:
            result = await self._call(_typing_audience, self.user, room, negotiation=room)
            if result is None:
                self._typed_at.pop(room, None)
                return
            cached = (*result, now)
            self._audiences[room] = cached
        event, others, _at = cached
        message = layer_message(event)
        for user_id in others:
            await self.channel_layer.group_send(party_group(user_id), message)

    async def handle_read(self, payload: dict[str, Any]) -> None:
        room = _room_id(payload)
        seq = payload.get("seq")
        if room is None or isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            await self._error("invalid", _("Name the negotiation and the seq read."))
            return
        await self._call(
            lambda: services.negotiation_mark_read(user=self.user, negotiation_id=room, seq=seq),
            negotiation=room,
        )
