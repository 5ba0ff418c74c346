"""The session limits (SECURITY C3: 30 minutes idle, 12 hours in all, for organisers and
exhibitor owners/admins) on open websockets: an owner's negotiation and stream-room sockets
close with 4401 once the session lapses or is deleted, a lapsed session is not signed in at
the handshake, and buyers' and sales staff's sockets are left alone. The recheck interval is
shortened and the session's timestamps moved instead of waiting. Real Redis channel layer,
real PostgreSQL."""

from __future__ import annotations

import importlib
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client
from django.utils import timezone

import fair.consumers
from fair.asgi import application
from fair.consumers import CLOSE_SIGN_IN, session_watch
from fair.session_limits import AUTH_AT, PRIVILEGED, SEEN_AT
from livestream import services as live_services
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.negotiations.nego_factories import Cast

pytestmark = pytest.mark.django_db(transaction=True)

NEGOTIATIONS = "/ws/negotiations/"
SAME_ORIGIN = (b"origin", b"http://testserver")
RECHECK_SECONDS = 0.05


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
def _short_recheck(monkeypatch, settings):
    monkeypatch.setattr(fair.consumers, "SESSION_RECHECK_SECONDS", RECHECK_SECONDS)
    settings.LIVE_VIEWERS_INTERVAL = 30


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
async def cast() -> Cast:
    return await sync_to_async(Cast)()


def _session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


session_key = sync_to_async(_session_key)


def _headers(key: str) -> list[tuple[bytes, bytes]]:
    return [SAME_ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]


@sync_to_async
def age(key: str, *, seen_ago: float, auth_ago: float) -> None:
    """Move the session's sign-in and last-seen times into the past (stored as a request
    would store them: database and cache)."""
    store = SessionStore(session_key=key)
    now = time.time()
    store[SEEN_AT] = int(now - seen_ago)
    store[AUTH_AT] = int(now - auth_ago)
    store.save()


async def negotiation_socket(key: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, NEGOTIATIONS, headers=_headers(key))
    assert (await socket.connect())[0] is True
    assert (await socket.receive_json_from(timeout=3))["type"] == "nego.ready"
    return socket


async def close_code(socket: WebsocketCommunicator, *, timeout: float = 3) -> int:
    """Wait for the server to close the socket (frames before it are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        output = await socket.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            return output["code"]


async def frame_of(socket: WebsocketCommunicator, wanted: str) -> dict:
    """The next frame of type ``wanted`` or ``error`` (room broadcasts in between skipped)."""
    while True:
        frame = await socket.receive_json_from(timeout=3)
        if frame["type"] in (wanted, "error"):
            return frame


async def answers_ping(socket: WebsocketCommunicator) -> bool:
    await socket.send_json_to({"type": "ping"})
    return await frame_of(socket, "pong") == {"type": "pong"}


async def test_owner_negotiation_socket_closes_once_idle_and_cannot_reopen(cast):
    key = await session_key(cast.owner)
    socket = await negotiation_socket(key)
    try:
        assert (await sync_to_async(SessionStore(session_key=key).load)())[PRIVILEGED] is True
        await session_watch.check()
        assert await answers_ping(socket)  # fresh: the recheck leaves it open

        await age(key, seen_ago=31 * 60, auth_ago=31 * 60)

        assert await close_code(socket) == CLOSE_SIGN_IN
        again = WebsocketCommunicator(application, NEGOTIATIONS, headers=_headers(key))
        assert await again.connect() == (False, CLOSE_SIGN_IN)
    finally:
        await socket.disconnect()


async def test_owner_negotiation_socket_closes_after_12_hours_even_when_active(cast):
    key = await session_key(cast.owner)
    socket = await negotiation_socket(key)
    try:
        await age(key, seen_ago=10, auth_ago=12 * 3600 - 60)
        await session_watch.check()
        assert await answers_ping(socket)  # 11 h 59 min: still open

        await age(key, seen_ago=10, auth_ago=12 * 3600 + 1)

        assert await close_code(socket) == CLOSE_SIGN_IN
    finally:
        await socket.disconnect()


async def test_owner_negotiation_socket_closes_once_its_session_is_deleted(cast):
    """Deleted from the table only (as an administrator would): the cached copy that
    ``cached_db`` keeps does not keep the socket open."""
    key = await session_key(cast.owner)
    socket = await negotiation_socket(key)
    try:
        deleted, _ = await sync_to_async(Session.objects.filter(session_key=key).delete)()
        assert deleted == 1

        assert await close_code(socket) == CLOSE_SIGN_IN
    finally:
        await socket.disconnect()


async def test_buyer_and_sales_sockets_stay_open_past_the_limits(cast):
    owner_key = await session_key(cast.owner)
    keys = {"buyer": await session_key(cast.buyer), "sales": await session_key(cast.sales)}
    owner = await negotiation_socket(owner_key)
    others = {name: await negotiation_socket(key) for name, key in keys.items()}
    try:
        assert set(session_watch.sockets) == {owner_key}  # only the owner's is watched
        for key in (owner_key, *keys.values()):
            await age(key, seen_ago=13 * 3600, auth_ago=13 * 3600)

        assert await close_code(owner) == CLOSE_SIGN_IN  # the recheck ran after the ageing
        await session_watch.check()
        for socket in others.values():
            assert await answers_ping(socket)
            assert await socket.receive_nothing(timeout=2 * RECHECK_SECONDS) is True
    finally:
        for socket in (owner, *others.values()):
            await socket.disconnect()


async def test_one_timer_closes_every_socket_of_the_lapsed_session_only(cast):
    key = await session_key(cast.owner)
    first = await negotiation_socket(key)
    second = await negotiation_socket(key)
    admin_key = await session_key(cast.admin)
    admin = await negotiation_socket(admin_key)
    try:
        timer = session_watch.task
        assert timer is not None and not timer.done()
        assert {k: len(v) for k, v in session_watch.sockets.items()} == {key: 2, admin_key: 1}

        await age(key, seen_ago=31 * 60, auth_ago=31 * 60)

        assert await close_code(first) == CLOSE_SIGN_IN
        assert await close_code(second) == CLOSE_SIGN_IN
        await session_watch.check()
        assert await answers_ping(admin)  # another session, still fresh
        assert session_watch.task is timer
        assert set(session_watch.sockets) == {admin_key}
    finally:
        for socket in (first, second, admin):
            await socket.disconnect()


# --- The stream room's chat ---------------------------------------------------------------


def _live_session(cast: Cast) -> int:
    start = timezone.now() - timedelta(minutes=5)
    session = live_services.session_schedule(
        user=cast.owner,
        exhibitor_id=cast.exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )
    return session.pk


async def room_socket(session_id: int, key: str) -> tuple[WebsocketCommunicator, dict]:
    """An open room socket and its ``room.joined`` frame, greeting read to the history."""
    socket = WebsocketCommunicator(application, f"/ws/live/{session_id}/", headers=_headers(key))
    assert (await socket.connect())[0] is True
    joined = None
    while True:
        frame = await socket.receive_json_from(timeout=3)
        if frame["type"] == "room.joined":
            joined = frame
        if frame["type"] == "chat.history":
            return socket, joined


async def test_owner_chat_socket_closes_once_idle_and_rejoins_signed_out(cast):
    session_id = await sync_to_async(_live_session)(cast)
    key = await session_key(cast.owner)
    socket, joined = await room_socket(session_id, key)
    buyer, _ = await room_socket(session_id, await session_key(cast.buyer))
    rejoined = None
    try:
        assert joined["is_staff"] is True
        assert joined["chat"]["can_post"] is True and joined["chat"]["is_moderator"] is True

        await age(key, seen_ago=31 * 60, auth_ago=31 * 60)

        assert await close_code(socket) == CLOSE_SIGN_IN
        # The room is public: the lapsed session rejoins as a signed-out viewer.
        rejoined, joined = await room_socket(session_id, key)
        assert joined["is_staff"] is False
        assert joined["chat"]["can_post"] is False and joined["chat"]["reason"] == "sign_in"
        await rejoined.send_json_to({"type": "chat.send", "client_id": "late-1", "body": "Hi"})
        refused = await frame_of(rejoined, "chat.ack")
        assert (refused["type"], refused["code"]) == ("error", "sign_in_required")
        assert await answers_ping(buyer)
    finally:
        for open_socket in (socket, buyer, rejoined):
            if open_socket is not None:
                await open_socket.disconnect()


async def test_an_owner_negotiating_on_the_socket_is_not_idle(cast):
    """Sending (or typing) is a person's activity, as a request is: 31 minutes after the
    last request, the socket stays open and the session's last-seen time moves to the
    send. Pings are not (the idle test above)."""
    from tests.negotiations.nego_factories import client_id

    key = await session_key(cast.owner)
    socket = await negotiation_socket(key)
    try:
        await socket.send_json_to(
            {"type": "nego.send", "negotiation": cast.room.pk, "client_id": client_id(),
             "body": "Still here"}
        )  # fmt: skip
        assert (await frame_of(socket, "nego.ack"))["type"] == "nego.ack"
        sent_at = time.time()
        await age(key, seen_ago=31 * 60, auth_ago=31 * 60)

        await session_watch.check()

        assert await answers_ping(socket)
        seen = (await sync_to_async(SessionStore(session_key=key).load)())[SEEN_AT]
        assert sent_at - 2 <= seen <= sent_at + 1
    finally:
        await socket.disconnect()
