"""The per-user connection cap on websockets (SECURITY E5): at most ``WEBSOCKET_MAX_PER_USER``
(10) sockets of one signed-in user per endpoint, counted across server processes in Redis
(``fair.user_sockets``); one more is closed with 4429 before its consumer runs, the open
ones are left alone, and every close gives its place back. Real Redis, real PostgreSQL;
the embedded demo's in-memory count is run through the same consumer tests."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connections
from django.test import Client
from django.urls import reverse

import fair.consumers
from fair.asgi import application
from fair.consumers import CLOSE_LOGGED_OUT, CLOSE_SIGN_IN, CLOSE_TOO_MANY, session_watch
from fair.session_limits import SEEN_AT
from fair.user_sockets import (
    STALE_SECONDS,
    MemorySocketStore,
    RedisSocketStore,
    UserSockets,
    user_sockets,
    user_sockets_key,
)
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.factories import make_organiser, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SAME_ORIGIN = (b"origin", b"http://testserver")
HEALTH = "/ws/health/"
NOTICES = "/ws/notices/"


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def reference_data(transactional_db) -> None:
    """The organisers' group (a data migration: gone after a transactional test)."""
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(params=["redis", "memory"])
def counted_in(request, monkeypatch):
    """The consumers' count: in Redis (several processes), or in this process's memory (the
    embedded demo, no REDIS_URL)."""
    if request.param == "memory":
        monkeypatch.setattr(fair.consumers, "user_sockets", UserSockets(MemorySocketStore()))
    return request.param


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


def _signed_in(make=make_user) -> Client:
    client = Client()
    client.user = make()
    client.force_login(client.user)
    return client


def _cookie(client: Client) -> tuple[bytes, bytes]:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


def _cap_key(path: str, client: Client) -> str:
    consumer = {HEALTH: "HealthConsumer", NOTICES: "NoticesConsumer"}[path]
    return user_sockets_key(f"sockets:{consumer}", client.user.pk)


def counted(path: str, client: Client) -> int:
    """How many places ``client``'s user holds at ``path`` (in the consumers' count)."""
    return fair.consumers.user_sockets.count(_cap_key(path, client))


async def open_socket(path: str, client: Client | None) -> WebsocketCommunicator:
    headers = [SAME_ORIGIN] + ([_cookie(client)] if client is not None else [])
    socket = WebsocketCommunicator(application, path, headers=headers)
    assert (await socket.connect())[0] is True
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=3))["type"] == "pong"
    return socket


async def refused(path: str, client: Client) -> dict:
    """Open one more socket: what the server sends after the handshake, which completes only
    to carry the close code. Nothing else arrives (no consumer code ran) and the consumer has
    ended."""
    socket = WebsocketCommunicator(application, path, headers=[SAME_ORIGIN, _cookie(client)])
    assert await socket.connect() == (True, None)
    closed = await socket.receive_output(timeout=3)
    await socket.wait(timeout=3)
    assert socket.future.done() and socket.output_queue.empty()
    return closed


TOO_MANY = {"type": "websocket.close", "code": CLOSE_TOO_MANY}


async def answers(socket: WebsocketCommunicator) -> bool:
    await socket.send_json_to({"type": "ping"})
    return (await socket.receive_json_from(timeout=3))["type"] == "pong"


async def close_all(sockets) -> None:
    for socket in sockets:
        with contextlib.suppress(Exception):
            await socket.disconnect()


# --- The cap through the consumers ------------------------------------------------------------


def _denials(caplog) -> list[tuple]:
    """The security log's denials: (reason, close code, consumer)."""
    return [
        (r.security["reason"], r.security.get("close_code"), r.security["consumer"])
        for r in caplog.records
        if r.name == "cloudfair.security" and r.security["event"] == "authz.denied"
    ]


async def test_cap_eleventh_socket_of_a_user_at_one_endpoint_refused_with_4429(counted_in, caplog):
    caplog.set_level("INFO", logger="cloudfair.security")
    anne = await sync_to_async(_signed_in)()
    assert settings.WEBSOCKET_MAX_PER_USER == 10
    sockets = [await open_socket(HEALTH, anne) for _ in range(10)]
    try:
        assert counted(HEALTH, anne) == 10

        assert await refused(HEALTH, anne) == TOO_MANY
        assert await refused(HEALTH, anne) == TOO_MANY

        # Each refusal is in the security log (SECURITY J2), the ten that opened are not.
        assert _denials(caplog) == [("too_many_sockets", CLOSE_TOO_MANY, "HealthConsumer")] * 2
        assert counted(HEALTH, anne) == 10
        assert [await answers(socket) for socket in sockets] == [True] * 10
    finally:
        await close_all(sockets)
    assert counted(HEALTH, anne) == 0


async def test_cap_other_endpoint_of_the_user_and_other_users_unaffected(counted_in):
    anne = await sync_to_async(_signed_in)()
    bob = await sync_to_async(_signed_in)()
    sockets = [await open_socket(HEALTH, anne) for _ in range(10)]
    try:
        notices = await open_socket(NOTICES, anne)
        sockets.append(notices)
        bobs = [await open_socket(HEALTH, bob) for _ in range(10)]
        sockets.extend(bobs)

        assert (counted(HEALTH, anne), counted(NOTICES, anne), counted(HEALTH, bob)) == (10, 1, 10)
        assert await refused(HEALTH, bob) == TOO_MANY
        assert await answers(notices) is True
    finally:
        await close_all(sockets)


async def test_cap_closing_one_socket_lets_a_new_one_open(counted_in):
    anne = await sync_to_async(_signed_in)()
    sockets = [await open_socket(HEALTH, anne) for _ in range(10)]
    try:
        assert await refused(HEALTH, anne) == TOO_MANY

        await sockets.pop().disconnect()
        assert counted(HEALTH, anne) == 9
        sockets.append(await open_socket(HEALTH, anne))

        assert counted(HEALTH, anne) == 10
        assert await refused(HEALTH, anne) == TOO_MANY
    finally:
        await close_all(sockets)


async def test_cap_anonymous_sockets_not_counted(counted_in):
    sockets = [await open_socket(HEALTH, None) for _ in range(12)]
    try:
        assert [await answers(socket) for socket in sockets] == [True] * 12
    finally:
        await close_all(sockets)


async def test_cap_logout_closing_the_users_sockets_gives_their_places_back_at_once():
    anne = await sync_to_async(_signed_in)()
    sockets = [await open_socket(HEALTH, anne) for _ in range(10)]
    try:
        response = await sync_to_async(anne.post)(reverse("logout"))

        assert response.status_code == 302
        for socket in sockets:
            closed = await socket.receive_output(timeout=3)
            assert closed == {"type": "websocket.close", "code": CLOSE_LOGGED_OUT}
        # Given back on the server's close, before any client acknowledges it.
        assert counted(HEALTH, anne) == 0
    finally:
        await close_all(sockets)


async def test_cap_session_timeout_closing_sockets_gives_their_places_back(reference_data, caplog):
    """The session watch (SECURITY C3; called directly here) closes an organiser's sockets
    once the session is idle too long: their places are free again."""
    organiser = await sync_to_async(_signed_in)(make_organiser)
    sockets = [await open_socket(HEALTH, organiser) for _ in range(10)]
    try:

        def idle_for_31_minutes():
            store = SessionStore(session_key=organiser.cookies[settings.SESSION_COOKIE_NAME].value)
            store[SEEN_AT] = int(time.time()) - 31 * 60
            store.save()

        await sync_to_async(idle_for_31_minutes)()
        caplog.set_level("INFO", logger="cloudfair.security")
        await session_watch.check()
        assert _denials(caplog) == [("session_ended", CLOSE_SIGN_IN, "HealthConsumer")] * 10

        for socket in sockets:
            closed = await socket.receive_output(timeout=3)
            assert closed == {"type": "websocket.close", "code": CLOSE_SIGN_IN}
        assert counted(HEALTH, organiser) == 0
    finally:
        await close_all(sockets)


async def test_cap_consumer_cancelled_without_a_close_gives_its_place_back():
    anne = await sync_to_async(_signed_in)()
    socket = await open_socket(HEALTH, anne)
    assert counted(HEALTH, anne) == 1

    socket.future.cancel()
    await asyncio.gather(socket.future, return_exceptions=True)

    assert counted(HEALTH, anne) == 0


async def test_cap_redis_failing_at_the_handshake_lets_the_socket_open(monkeypatch):
    """Availability first: a Redis outage must not lock every user out."""
    anne = await sync_to_async(_signed_in)()

    async def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(user_sockets.store, "add", unreachable)
    socket = await open_socket(HEALTH, anne)
    try:
        assert await answers(socket) is True
    finally:
        await socket.disconnect()


# --- Several processes: counted in Redis, crashed processes' sockets expire --------------------


async def test_cap_counts_sockets_of_other_processes_and_drops_their_stale_ones():
    anne = await sync_to_async(_signed_in)()
    key = _cap_key(HEALTH, anne)
    now = time.time()
    # What another Daphne process writes for its sockets: three heartbeats just now, and five
    # from a process that crashed (last heartbeat longer than STALE_SECONDS ago).
    other = RedisSocketStore(settings.REDIS_URL)
    for n in range(3):
        await other.add(key, f"other-process.live-{n}", now)
    for n in range(5):
        await other.add(key, f"other-process.crashed-{n}", now - STALE_SECONDS - 1)
    assert counted(HEALTH, anne) == 3

    sockets = [await open_socket(HEALTH, anne) for _ in range(7)]
    try:
        assert await refused(HEALTH, anne) == TOO_MANY
        members = _redis().zrange(key, 0, -1)
        assert len(members) == 10
        assert sorted(m for m in members if m.startswith("other-process.")) == [
            f"other-process.live-{n}" for n in range(3)
        ]

        await other.remove([(key, "other-process.live-0")])  # closed in the other process
        sockets.append(await open_socket(HEALTH, anne))
        assert counted(HEALTH, anne) == 10
    finally:
        await close_all(sockets)
    assert sorted(_redis().zrange(key, 0, -1)) == ["other-process.live-1", "other-process.live-2"]


# --- The count and its heartbeat (fair.user_sockets) ------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("store", ["redis", "memory"])
async def test_user_sockets_heartbeat_keeps_own_sockets_while_a_crashed_process_expires(store):
    clock = Clock(1_000_000.0)
    sets = UserSockets(
        RedisSocketStore(settings.REDIS_URL) if store == "redis" else MemorySocketStore(),
        clock=clock,
    )
    key = user_sockets_key("sockets:Test", 1)
    crashed = RedisSocketStore(settings.REDIS_URL) if store == "redis" else sets.store
    await crashed.add(key, "crashed.1", clock.now)
    assert [await sets.add(key, f"own.{n}", limit=3) for n in range(3)] == [True, True, False]

    clock.now += STALE_SECONDS - 10
    await sets.heartbeat()
    clock.now += 20  # past STALE_SECONDS since the crashed process's last heartbeat

    assert sets.count(key) == 2
    assert await sets.add(key, "own.2", limit=3) is True
    assert await sets.add(key, "own.3", limit=3) is False
    await sets.remove(key, "own.0")
    assert await sets.add(key, "own.3", limit=3) is True
    assert sets.count(key) == 3
    for n in (1, 2, 3):
        await sets.remove(key, f"own.{n}")
    assert sets.count(key) == 0
    assert sets._task is None  # the timer stopped with the last socket


async def test_user_sockets_socket_closed_during_a_heartbeat_is_not_written_back():
    sets = UserSockets(RedisSocketStore(settings.REDIS_URL))
    key = user_sockets_key("sockets:Test", 2)
    await sets.add(key, "own.1")
    await sets.add(key, "own.2")
    refresh = sets.store.refresh

    async def refresh_while_own_1_closes(pairs, now):
        await sets.remove(key, "own.1")  # its ZREM lands before the heartbeat's ZADD
        await refresh(pairs, now)

    sets.store.refresh = refresh_while_own_1_closes
    await sets.heartbeat()

    assert _redis().zrange(key, 0, -1) == ["own.2"]
    await sets.remove(key, "own.2")
