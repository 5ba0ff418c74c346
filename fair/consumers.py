"""The base of every websocket consumer, and the health socket.

``FairJsonConsumer`` parses and checks each frame once and routes it by its ``type`` to a
``handle_<type>`` method named in ``actions``. Anything else gets an error frame, never a
crash: ``{"type": "error", "code": "...", "detail": "..."}``.

Every socket honours the session limits of organisers and exhibitor owners/admins
(``fair.session_limits``, SECURITY C3) as requests do: a session that has lapsed by the
handshake is served as anonymous, and the open sockets of privileged sessions are closed
with 4401 once their session is gone or past its idle or absolute limit (``_SessionWatch``:
one timer per process). A person's own actions on a socket (``activity_actions``: sending a
message, typing, moderating) count as activity, as a request would: the timer moves the
session's last-seen time forward, at most once a minute. Pings and automatic requests do
not (a tab left open is idle).

A signed-in user may hold at most ``WEBSOCKET_MAX_PER_USER`` sockets per endpoint (consumer
class) across every server process (SECURITY E5; a page opens several endpoints' sockets,
so each endpoint counts apart): one more is refused before anything else of the handshake
with ``CLOSE_TOO_MANY`` (4429; the pages stop reconnecting), and the open ones are left
alone. The places are counted in ``fair.user_sockets`` (Redis, refreshed by one timer per
process) and given back on every close: the client's, the server's (log-out, session
limits) and a consumer cancelled without either. Anonymous sockets are not counted."""

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
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder

from fair.db_async import db_async
from fair.hub import hub
from fair.realtime import audience_group, health_group, user_group
from fair.security_log import ws_denied
from fair.user_sockets import user_sockets, user_sockets_key

logger = logging.getLogger(__name__)

# Close code for a frame larger than we accept (RFC 6455: message too big).
CLOSE_TOO_BIG = 1009
# Close code when the user logged out (their sockets must not outlive the session).
CLOSE_LOGGED_OUT = 4401
# Close codes at the handshake: sign in first / not allowed here.
CLOSE_SIGN_IN = 4401
CLOSE_FORBIDDEN = 4403
# Close code at the handshake: the user has the most sockets allowed at this endpoint open.
CLOSE_TOO_MANY = 4429


class FairJsonConsumer(AsyncWebsocketConsumer):
    #: Client message types this consumer accepts, mapped to handler method names.
    actions: dict[str, str] = {}
    #: Groups joined on connect (set in ``connect`` before calling ``join_groups``).
    groups: list[str] = []
    #: Anonymous sockets get no channel-layer channel (everything they receive comes from a
    #: process-wide fan-out): that saves a Redis subscription and a queue per open page.
    anonymous_without_channel = False
    #: Watch this socket's session even if it is not privileged (``_SessionWatch``).
    session_watch_always = False
    #: The session key this socket is watched under, if any.
    _watched_session: str | None = None
    #: Actions a person takes (not automatic ones): they keep a privileged session from
    #: going idle (``_SessionWatch``); when the last one was taken (``time.time()``).
    activity_actions: frozenset[str] = frozenset()
    _acted_at = 0.0
    #: The ``fair.user_sockets`` set this socket holds a place in (the per-user cap), if any.
    _counted_in: str | None = None

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        signed_in = user is not None and user.is_authenticated
        if signed_in and _session_lapsed(scope.get("session")):
            # As SessionTimeoutMiddleware serves a request: not signed in. The session is
            # left for the next page load, which signs it out with its message.
            scope = {**scope, "user": AnonymousUser()}
            signed_in = False
        if not self.anonymous_without_channel or signed_in:
            try:
                return await super().__call__(scope, receive, send)
            finally:
                await self._uncount()  # also when cancelled without a disconnect
        self.scope = scope
        self.channel_layer = None
        self.channel_name = f"anon.{uuid.uuid4().hex}"
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive], self.dispatch)

    async def websocket_connect(self, message):
        """Refuse a signed-in user's socket beyond ``WEBSOCKET_MAX_PER_USER`` at this
        endpoint before ``connect`` runs; otherwise it holds its place until it closes.

        The refusal completes the handshake only to close it at once with
        ``CLOSE_TOO_MANY``, and the consumer ends there (no group, no frame, nothing read):
        a close before accept is an HTTP 403 in Daphne, which a browser reports as 1006,
        like a network failure, so the page could not tell that it must not reconnect."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            key = user_sockets_key(f"sockets:{type(self).__name__}", user.pk)
            limit = settings.WEBSOCKET_MAX_PER_USER
            if not await user_sockets.add(key, self.channel_name, limit=limit):
                ws_denied(self, reason="too_many_sockets", close_code=CLOSE_TOO_MANY)
                await super().accept()
                await super().close(code=CLOSE_TOO_MANY)
                raise StopConsumer
            self._counted_in = key
        await super().websocket_connect(message)

    async def _uncount(self) -> None:
        key, self._counted_in = self._counted_in, None
        if key is not None:
            await user_sockets.remove(key, self.channel_name)

    async def close(self, code=None, reason=None):
        """Close from the server (refused at the handshake, logged out, session lapsed): the
        place is given back at once, not when the client's close arrives."""
        await self._uncount()
        await super().close(code=code, reason=reason)

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
        if payload["type"] in self.activity_actions:
            self._acted_at = time.time()
        await getattr(self, handler_name)(payload)

    async def accept(self, subprotocol=None, headers=None):
        """Accept, and join the signed-in user's own group so a log-out closes this socket
        (SECURITY C2); the group is left on disconnect with the others. A privileged
        session's socket is also watched for the session limits (``_SessionWatch``)."""
        await super().accept(subprotocol=subprotocol, headers=headers)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            group = user_group(user.pk)
            self.groups = [*self.groups, group]
            await self.channel_layer.group_add(group, self.channel_name)
            session = self.scope.get("session")
            if _session_watched(session, always=self.session_watch_always):
                self._watched_session = session.session_key
                session_watch.add(self, self._watched_session)

    async def websocket_disconnect(self, message):
        if self._watched_session is not None:
            session_watch.remove(self, self._watched_session)
            self._watched_session = None
        await self._uncount()
        await super().websocket_disconnect(message)

    def session_recheck(self, session: dict) -> bool:
        """Whether this socket may stay open: asked by ``_SessionWatch`` on its thread, with
        the session as stored now, after the session itself passed the limits. Consumers
        with more to recheck (the organisers' dashboard: the role) override it."""
        return True

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


# --- Session limits on open sockets (fair.session_limits) ----------------------------------

#: How often the sockets of privileged sessions are checked against their session (seconds;
#: read before every wait, so tests can shorten it).
SESSION_RECHECK_SECONDS = 60


def _session_lapsed(session) -> bool:
    """The handshake's session (already loaded by the auth middleware: no query) is past
    the idle or absolute limit."""
    from fair.session_limits import session_expired

    return session is not None and bool(session_expired(session, time.time()))


def _session_watched(session, *, always: bool) -> bool:
    """Privileged sessions, and those from before the limits existed (``PRIVILEGED`` not yet
    set: the next request decides); buyers' and sales staff's sockets are not rechecked."""
    from fair.session_limits import PRIVILEGED

    if session is None or not session.session_key:
        return False
    return always or session.get(PRIVILEGED) is not False


def _sessions_recheck(watched: dict[str, tuple[int, list]], now: float) -> tuple[list, list]:
    """(sockets to close, sockets to stop watching) for ``{session key: (user id,
    sockets)}``: one query for all the sessions, then each socket's own recheck."""
    from fair.session_limits import (
        PRIVILEGED,
        SEEN_AT,
        SEEN_WRITE_EVERY,
        session_expired,
        sessions_seen,
        sessions_stored,
    )

    stored = sessions_stored({key: user_id for key, (user_id, _sockets) in watched.items()})
    close, forget = [], []
    seen: dict[str, int] = {}
    for key, (_user_id, sockets) in watched.items():
        session = stored.get(key)
        acted_at = int(max(socket._acted_at for socket in sockets))
        if session is not None and acted_at - session.get(SEEN_AT, 0) >= SEEN_WRITE_EVERY:
            # The person acted on a socket since the session was last seen: activity.
            session[SEEN_AT] = seen[key] = acted_at
        if session is None or session_expired(session, now):
            close.extend(sockets)
            continue
        for socket in sockets:
            if not socket.session_recheck(session):
                close.append(socket)
            elif session.get(PRIVILEGED) is False and not socket.session_watch_always:
                forget.append(socket)  # an old session, found not privileged since
    if seen:
        sessions_seen(seen)
    return close, forget


class _SessionWatch:
    """One timer per process for the open sockets of privileged sessions: every
    ``SESSION_RECHECK_SECONDS`` it reads all their sessions in one query and closes, with
    4401 (``CLOSE_SIGN_IN``: the pages stop reconnecting and ask to sign in again), the
    sockets whose session is gone (log-out, deleted on the server) or past the idle or
    absolute limit, or whose consumer's ``session_recheck`` refuses. The limits are the
    request's (``fair.session_limits``); a socket's ``activity_actions`` move the session's
    last-seen time as requests do (written here, at most once a minute per session). Per
    frame only the time of a person's action is noted, so the send paths stay as they are."""

    def __init__(self) -> None:
        self.loop = None
        self.sockets: dict[str, set] = {}  # session key -> sockets
        self.task: asyncio.Task | None = None

    def add(self, consumer, session_key: str) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            self.loop, self.sockets, self.task = loop, {}, None
        self.sockets.setdefault(session_key, set()).add(consumer)
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._run())

    def remove(self, consumer, session_key: str) -> None:
        if self.loop is not asyncio.get_running_loop():
            return
        sockets = self.sockets.get(session_key)
        if sockets is not None:
            sockets.discard(consumer)
            if not sockets:
                del self.sockets[session_key]

    async def _run(self) -> None:
        while self.sockets:
            await asyncio.sleep(SESSION_RECHECK_SECONDS)
            try:
                await self.check()
            except Exception:
                logger.exception("session recheck of open sockets failed")
        self.task = None

    async def check(self) -> None:
        """Recheck every watched socket now (the timer's work)."""
        watched = {
            key: (next(iter(sockets)).scope["user"].pk, list(sockets))
            for key, sockets in self.sockets.items()
            if sockets
        }
        if not watched:
            return
        close, forget = await db_async(_sessions_recheck)(watched, time.time())
        for consumer in forget:
            self._forget(consumer)
        for consumer in close:
            if self._forget(consumer):  # not closed by its client meanwhile
                ws_denied(consumer, reason="session_ended", close_code=CLOSE_SIGN_IN)
                with contextlib.suppress(Exception):
                    await consumer.close(code=CLOSE_SIGN_IN)

    def _forget(self, consumer) -> bool:
        if consumer._watched_session is None:
            return False
        self.remove(consumer, consumer._watched_session)
        consumer._watched_session = None
        return True


session_watch = _SessionWatch()


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
        while self.sockets:
            await asyncio.sleep(interval)
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


dashboard_ticker = _DashboardTicker()


def _organiser_still(user_id: int, session: dict) -> bool:
    """Still an active organiser (read afresh: the scope's user is from the handshake), and
    the session passed the second step where it is required."""
    from fair.models import User

    fresh = User.objects.filter(pk=user_id, is_active=True).first()
    return fresh is not None and fresh.is_organiser and not _mfa_pending(session)


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
    Anyone else is refused at the handshake (close code 4403), a lapsed session with 4401.
    An open socket closes with 4401 once its session ends or its user is no longer an
    organiser (``_SessionWatch``; a watched dashboard is no activity)."""

    actions = {"ping": "handle_ping", "dashboard.refresh": "handle_refresh"}
    session_watch_always = True  # the role is rechecked, whatever the session

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            ws_denied(self, reason="not_signed_in", close_code=CLOSE_SIGN_IN)
            await self.close(code=CLOSE_SIGN_IN)
            return
        if not await db_async(lambda: user.is_organiser)():
            ws_denied(self, reason="not_organiser", close_code=CLOSE_FORBIDDEN)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if await db_async(_mfa_pending)(self.scope.get("session")):
            ws_denied(self, reason="mfa_pending", close_code=CLOSE_FORBIDDEN)
            await self.close(code=CLOSE_FORBIDDEN)  # password only: no code entered yet
            return
        self.groups = []
        await self.accept()
        await self.send(text_data=await dashboard_frame())
        dashboard_ticker.add(self)

    async def disconnect(self, code):
        dashboard_ticker.remove(self)
        await super().disconnect(code)

    def session_recheck(self, session: dict) -> bool:
        return _organiser_still(self.scope["user"].pk, session)

    async def close(self, code=None, reason=None):
        dashboard_ticker.remove(self)  # no more figures to a closing socket
        await super().close(code=code, reason=reason)

    async def handle_ping(self, payload: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def handle_refresh(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=await dashboard_frame())
