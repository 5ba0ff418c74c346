"""The base of every websocket consumer, and the health socket.

``FairJsonConsumer`` parses and checks each frame once and routes it by its ``type`` to a
``handle_<type>`` method named in ``actions``. Anything else gets an error frame, never a
crash: ``{"type": "error", "code": "...", "detail": "..."}``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from fair.db_async import db_async
from fair.hub import hub
from fair.realtime import audience_group, health_group, user_group

logger = logging.getLogger(__name__)

# Close code for a frame larger than we accept (RFC 6455: message too big).
CLOSE_TOO_BIG = 1009
# Close code when the user logged out (their sockets must not outlive the session).
CLOSE_LOGGED_OUT = 4401
# Close codes at the handshake: sign in first / not allowed here.
CLOSE_SIGN_IN = 4401
CLOSE_FORBIDDEN = 4403


class FairJsonConsumer(AsyncWebsocketConsumer):
    #: Client message types this consumer accepts, mapped to handler method names.
    actions: dict[str, str] = {}
    #: Groups joined on connect (set in ``connect`` before calling ``join_groups``).
    groups: list[str] = []
    #: Anonymous sockets get no channel-layer channel (everything they receive comes from a
    #: process-wide fan-out): that saves a Redis subscription and a queue per open page.
    anonymous_without_channel = False

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if not self.anonymous_without_channel or (user is not None and user.is_authenticated):
            return await super().__call__(scope, receive, send)
        self.scope = scope
        self.channel_layer = None
        self.channel_name = f"anon.{uuid.uuid4().hex}"
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive], self.dispatch)

    async def dispatch(self, message):
        # Channels 4.2+ hops to a thread before every handler to close stale database
        # connections (about 40 % of CPU on the fan-out path, measured). Our consumers never
        # touch the database directly: every query goes through database_sync_to_async,
        # which closes old connections itself, so the hop is skipped here.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if bytes_data is not None:
            await self.send_error("binary_not_supported", "Send JSON text frames.")
            return
        if len(text_data.encode("utf-8")) > settings.WEBSOCKET_MAX_MESSAGE_BYTES:
            await self.send_error("too_large", "That message is too large.")
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            payload = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.send_error("bad_json", "The message is not valid JSON.")
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            await self.send_error("bad_message", "A message must be an object with a 'type'.")
            return
        handler_name = self.actions.get(payload["type"])
        if handler_name is None:
            await self.send_error("unknown_type", f"Unknown message type {payload['type']!r}.")
            return
        await getattr(self, handler_name)(payload)

    async def accept(self, subprotocol=None, headers=None):
        """Accept, and join the signed-in user's own group so a log-out closes this socket
        (SECURITY C2); the group is left on disconnect with the others."""
        await super().accept(subprotocol=subprotocol, headers=headers)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            group = user_group(user.pk)
            self.groups = [*self.groups, group]
            await self.channel_layer.group_add(group, self.channel_name)

    async def realtime_close(self, message: dict) -> None:
        """The user logged out elsewhere: close with CLOSE_LOGGED_OUT."""
        await self.close(code=CLOSE_LOGGED_OUT)

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def send_error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})

    async def realtime_event(self, message: dict[str, str]) -> None:
        """A broadcast from ``fair.realtime``: already encoded, forwarded as it is."""
        await self.send(text_data=message["text"])


class HealthConsumer(FairJsonConsumer):
    """``/ws/health/``: answers pings and relays the health group's broadcasts. Used by
    monitoring and by tests to prove the whole websocket path (origin check, auth, channel
    layer) works."""

    actions = {"ping": "handle_ping"}

    async def connect(self):
        self.groups = [health_group()]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        user = self.scope.get("user")
        await self.send_json(
            {
                "type": "pong",
                "authenticated": bool(user is not None and user.is_authenticated),
                "echo": payload.get("echo"),
            }
        )


# --- Every page: announcements and who is online ------------------------------------------


class _OnlineUsers:
    """This process's signed-in users per audience, written to Redis on a timer (one call
    per process per ``fair.online.HEARTBEAT_SECONDS``, not one per socket)."""

    def __init__(self) -> None:
        self.loop = None
        self.sockets: dict[str, dict[int, int]] = {}  # audience -> user id -> socket count
        self.task: asyncio.Task | None = None

    def _same_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            self.loop, self.sockets, self.task = loop, {}, None

    async def add(self, audiences: list[str], user_id: int) -> None:
        from fair.online import online_mark

        self._same_loop()
        for audience in audiences:
            users = self.sockets.setdefault(audience, {})
            users[user_id] = users.get(user_id, 0) + 1
        await asyncio.to_thread(online_mark, {a: [user_id] for a in audiences})
        if self.task is None:
            self.task = asyncio.create_task(self._run())

    def remove(self, audiences: list[str], user_id: int) -> None:
        if self.loop is not asyncio.get_running_loop():
            return
        for audience in audiences:
            users = self.sockets.get(audience, {})
            if users.get(user_id, 0) <= 1:
                users.pop(user_id, None)
            else:
                users[user_id] -= 1

    async def _run(self) -> None:
        from fair.online import HEARTBEAT_SECONDS, online_mark

        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            snapshot = {a: list(users) for a, users in self.sockets.items() if users}
            if snapshot:
                try:
                    await asyncio.to_thread(online_mark, snapshot)
                except Exception:
                    logger.exception("online heartbeat failed")


online_users = _OnlineUsers()


def _user_audiences(user) -> list[str]:
    from fair.announcements import user_audiences

    audiences = user_audiences(user)
    if user.is_authenticated and user.is_organiser:
        audiences.append("organisers")
    return audiences


class NoticesConsumer(FairJsonConsumer):
    """``/ws/notices/``: held by every page. Delivers announcements to the page's audience
    (``announcement``, ``announcement.withdrawn``) and counts signed-in users as online."""

    actions = {"ping": "handle_ping"}
    anonymous_without_channel = True
    audiences: list[str] = []
    hub_groups: list[str] = []
    user_id: int | None = None

    async def connect(self):
        user = self.scope.get("user")
        signed_in = user is not None and user.is_authenticated
        self.audiences = await db_async(_user_audiences)(user) if signed_in else ["everyone"]
        self.groups = []
        # Subscribed and counted before the handshake completes: once the page sees the
        # socket open, no announcement can slip by and the user counts as online.
        self.hub_groups = [audience_group(a) for a in self.audiences if a != "organisers"]
        await hub.join(self.hub_groups, self)
        if signed_in:
            self.user_id = user.pk
            counted = [a for a in self.audiences if a != "everyone"]
            if counted:
                await online_users.add(counted, user.pk)
        await self.accept()

    async def disconnect(self, code):
        await hub.leave(self.hub_groups, self)
        if self.user_id is not None:
            online_users.remove([a for a in self.audiences if a != "everyone"], self.user_id)
        await super().disconnect(code)

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})


# --- The organisers' live dashboard ----------------------------------------------------------


class _DashboardTicker:
    """One timer per process while any organiser watches: every ``DASHBOARD_TICK_SECONDS``
    it reads the snapshot (a cache read; providers recompute when due, one process at a
    time) and sends it to this process's dashboard sockets if it changed."""

    def __init__(self) -> None:
        self.loop = None
        self.sockets: set = set()
        self.task: asyncio.Task | None = None
        self.last_text = ""

    def add(self, consumer) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            self.loop, self.sockets, self.task, self.last_text = loop, set(), None, ""
        self.sockets.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    def remove(self, consumer) -> None:
        self.sockets.discard(consumer)

    async def _run(self) -> None:
        interval = float(getattr(settings, "DASHBOARD_TICK_SECONDS", 5))
        checked_at = time.monotonic()
        while self.sockets:
            await asyncio.sleep(interval)
            if time.monotonic() - checked_at >= SESSION_RECHECK_SECONDS:
                checked_at = time.monotonic()
                await self._drop_expired()
            if not self.sockets:
                break
            try:
                text = await dashboard_frame()
            except Exception:
                logger.exception("dashboard tick failed")
                continue
            if text == self.last_text:
                continue
            self.last_text = text
            for consumer in list(self.sockets):
                with contextlib.suppress(Exception):
                    await consumer.send(text_data=text)
        self.task = None

    async def _drop_expired(self) -> None:
        """Close the sockets whose session ended (log-out, idle or absolute timeout) or
        whose user is no longer an organiser: a watched dashboard is no activity."""
        for consumer in list(self.sockets):
            if not await db_async(organiser_session_valid)(consumer.scope):
                self.sockets.discard(consumer)
                with contextlib.suppress(Exception):
                    await consumer.close(code=CLOSE_SIGN_IN)


dashboard_ticker = _DashboardTicker()
#: How often the dashboard's sockets are checked against their session and role.
SESSION_RECHECK_SECONDS = 60


def organiser_session_valid(scope) -> bool:
    """The socket's session still exists and has not timed out, and its user is still an
    active organiser (read afresh: the scope's copies are from the handshake)."""
    from importlib import import_module

    from fair.models import User
    from fair.session_limits import session_expired

    session = scope.get("session")
    user = scope.get("user")
    if session is None or user is None or not user.is_authenticated:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session.session_key)
    if not store.session_key or not store.exists(store.session_key):
        return False
    store.load()
    if session_expired(store, time.time()) or _mfa_pending(store):
        return False
    fresh = User.objects.filter(pk=user.pk, is_active=True).first()
    return fresh is not None and fresh.is_organiser


async def dashboard_frame() -> str:
    from fair.dashboard import dashboard_snapshot

    started = time.perf_counter()
    figures = await db_async(dashboard_snapshot)()
    elapsed = (time.perf_counter() - started) * 1000
    if elapsed > 1000:
        logger.warning("dashboard snapshot took %.0f ms", elapsed)
    return json.dumps(
        {"type": "dashboard.figures", "figures": figures},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def _mfa_pending(session) -> bool:
    from fair.mfa import SESSION_MFA_AT
    from fair.session_limits import PRIVILEGED

    if not settings.MFA_REQUIRED or session is None:
        return False
    return bool(session.get(PRIVILEGED) and not session.get(SESSION_MFA_AT))


class OrganiserConsumer(FairJsonConsumer):
    """``/ws/organiser/``: the dashboard's figures for organisers, every few seconds.
    Anyone else is refused at the handshake (close code 4403)."""

    actions = {"ping": "handle_ping", "dashboard.refresh": "handle_refresh"}

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_SIGN_IN)
            return
        if not await db_async(lambda: user.is_organiser)():
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if await db_async(_mfa_pending)(self.scope.get("session")):
            await self.close(code=CLOSE_FORBIDDEN)  # password only: no code entered yet
            return
        if not await db_async(organiser_session_valid)(self.scope):
            await self.close(code=CLOSE_SIGN_IN)  # the session timed out: log in again
            return
        self.groups = []
        await self.accept()
        await self.send(text_data=await dashboard_frame())
        dashboard_ticker.add(self)

    async def disconnect(self, code):
        dashboard_ticker.remove(self)
        await super().disconnect(code)

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def handle_refresh(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=await dashboard_frame())
