"""The stream room's websocket (/ws/live/<id>/) and the programme's (/ws/live/programme/):
who may connect, broadcasts arriving as encoded, presence and viewer counts on the timer,
who is watching, and the frame parser's limits. Real Redis channel layer, real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.test import Client
from django.utils import timezone

from fair.asgi import application
from fair.consumers import CLOSE_TOO_BIG
from fair.realtime import encode_event, live_session_group, send_event
from fair.routing import websocket_urlpatterns
from livestream import routing as livestream_routing
from livestream import services
from livestream.consumers import CLOSE_NOT_FOUND
from livestream.models import LiveSession
from livestream.presence import presence
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import add_member, make_exhibitor, make_product, owner_of
from tests.factories import make_buyer

pytestmark = pytest.mark.django_db(transaction=True)

SAME_ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    """Rows data migrations load (category tree, organisers group): ``transactional_db``
    empties every table after each test, so they are loaded again (idempotent)."""
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
def _live_routes():
    """Mount the live routes on the project's router if fair/routing.py does not yet."""
    missing = [
        route
        for route in livestream_routing.websocket_urlpatterns
        if not any(str(r.pattern) == str(route.pattern) for r in websocket_urlpatterns)
    ]
    websocket_urlpatterns.extend(missing)
    yield
    for route in missing:
        websocket_urlpatterns.remove(route)


@pytest.fixture(autouse=True)
def _slow_timer(settings):
    # The viewers timer stays out of the way unless a test shortens it.
    settings.LIVE_VIEWERS_INTERVAL = 30


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    # Database work of these tests runs in asgiref's sync thread; its connections must not
    # outlive the test (they would keep the test database from being dropped).
    await sync_to_async(connections.close_all)()


# --- Helpers -------------------------------------------------------------------------------


def _public_session(**kwargs) -> LiveSession:
    exhibitor = kwargs.pop("exhibitor", None) or make_exhibitor()
    start = timezone.now() - timedelta(minutes=5)
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
        **kwargs,
    )


public_session = sync_to_async(_public_session)


def _cookie_for(user) -> tuple[bytes, bytes]:
    client = Client()  # one per user: logging another user in on a client flushes its session
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


def room(session_id: int, *headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/live/{session_id}/", headers=list(headers) or [SAME_ORIGIN]
    )


@contextlib.asynccontextmanager
async def joined(session_id: int, *headers):
    """A connected room socket whose greeting frames were read: yields it and the first two
    (``room.joined``, ``viewers``); the third, the chat history, is checked and dropped."""
    socket = room(session_id, *headers)
    connected, _ = await socket.connect()
    assert connected is True
    try:
        greeting = [await socket.receive_json_from(), await socket.receive_json_from()]
        history = await socket.receive_json_from()
        assert history["type"] == "chat.history"
        yield socket, greeting
    finally:
        await socket.disconnect()


async def receive_until(socket, predicate, timeout: float = 2.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = await socket.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if predicate(frame):
            return frame


# --- Who may connect -----------------------------------------------------------------------


async def test_room_public_session_anonymous_connects_and_is_greeted():
    session = await public_session()

    async with joined(session.pk) as (socket, greeting):
        await socket.send_json_to({"type": "ping"})
        pong = await socket.receive_json_from()

    assert greeting == [
        {
            "type": "room.joined",
            "session": session.pk,
            "status": "scheduled",
            "is_staff": False,
            "chat": {
                "can_post": False,
                "is_moderator": False,
                "reason": "sign_in",
                "muted_until": None,
                "slow_mode": 0,
            },
        },
        {"type": "viewers", "session": session.pk, "count": 1, "peak": 1},
    ]
    assert pong == {"type": "pong"}


async def test_room_public_session_signed_in_buyer_connects_with_session_cookie():
    session = await public_session()
    cookie = await sync_to_async(_cookie_for)(await sync_to_async(make_buyer)())

    async with joined(session.pk, SAME_ORIGIN, cookie) as (_socket, greeting):
        ids = await presence.user_ids(session.pk)

    assert greeting[0]["is_staff"] is False
    assert len(ids) == 1


async def test_room_staff_sales_member_is_greeted_as_staff():
    session = await public_session()
    sales = await sync_to_async(add_member)(
        await sync_to_async(lambda: session.exhibitor)(), "sales"
    )
    cookie = await sync_to_async(_cookie_for)(sales)

    async with joined(session.pk, SAME_ORIGIN, cookie) as (_socket, greeting):
        pass

    assert greeting[0] == {
        "type": "room.joined",
        "session": session.pk,
        "status": "scheduled",
        "is_staff": True,
        "chat": {
            "can_post": True,
            "is_moderator": True,
            "reason": "",
            "muted_until": None,
            "slow_mode": 0,
        },
    }


def _cancelled_session() -> int:
    session = _public_session()
    services.session_cancel(user=owner_of(session.exhibitor), session_id=session.pk)
    return session.pk


def _pending_exhibitor_session() -> int:
    return _public_session(exhibitor=make_exhibitor(approved=False)).pk


@pytest.mark.parametrize(
    "make_session_id",
    [_cancelled_session, _pending_exhibitor_session, lambda: 987654321],
    ids=["cancelled", "pending-exhibitor", "unknown"],
)
async def test_room_not_public_session_is_closed_4404_for_anonymous(make_session_id):
    session_id = await sync_to_async(make_session_id)()
    socket = room(session_id)

    connected, code = await socket.connect()

    assert (connected, code) == (False, CLOSE_NOT_FOUND)
    assert CLOSE_NOT_FOUND == 4404
    assert await presence.snapshot(session_id) == (0, 0)


async def test_room_pending_exhibitor_session_refused_to_buyer_open_to_its_owner():
    session_id = await sync_to_async(_pending_exhibitor_session)()
    session = await sync_to_async(LiveSession.objects.select_related("exhibitor").get)(
        pk=session_id
    )
    buyer_cookie = await sync_to_async(_cookie_for)(await sync_to_async(make_buyer)())
    refused = await room(session_id, SAME_ORIGIN, buyer_cookie).connect()
    owner = await sync_to_async(owner_of)(session.exhibitor)
    owner_cookie = await sync_to_async(_cookie_for)(owner)

    async with joined(session_id, SAME_ORIGIN, owner_cookie) as (_socket, greeting):
        pass

    assert refused == (False, CLOSE_NOT_FOUND)
    assert greeting[0]["is_staff"] is True


@pytest.mark.parametrize(
    "headers",
    [[(b"origin", b"https://evil.example")], [(b"origin", b"null")], []],
    ids=["foreign", "null", "missing"],
)
async def test_room_foreign_or_missing_origin_is_refused(headers):
    session = await public_session()
    socket = WebsocketCommunicator(application, f"/ws/live/{session.pk}/", headers=headers)

    connected, _ = await socket.connect()

    assert connected is False
    assert await presence.snapshot(session.pk) == (0, 0)


# --- Broadcasts ----------------------------------------------------------------------------


def _go_live(session_id: int) -> tuple[str, LiveSession]:
    session = LiveSession.objects.select_related("exhibitor").get(pk=session_id)
    channel, key = services.stream_key_reveal(
        user=owner_of(session.exhibitor), exhibitor_id=session.exhibitor_id
    )
    live = services.media_publish(public_id=channel.public_id, key=key)
    return key, live


async def test_room_media_publish_broadcasts_session_live_as_exact_json():
    session = await public_session()

    async with joined(session.pk) as (socket, _greeting):
        key, live = await sync_to_async(_go_live)(session.pk)
        received = await socket.receive_from(timeout=2)
        nothing_more = await socket.receive_nothing(timeout=0.2)

    assert live.pk == session.pk
    assert json.loads(received) == {
        "type": "session.live",
        "session": session.pk,
        "status": "live",
        "started_at": DjangoJSONEncoder().default(live.started_at),
        "ended_at": None,
    }
    assert received == encode_event(services.session_event(live, "session.live"))
    assert key not in received
    assert nothing_more is True


def _pin(session_id: int) -> int:
    session = LiveSession.objects.select_related("exhibitor").get(pk=session_id)
    product = make_product(session.exhibitor, name="Air fryer 5 L")
    services.session_pin_product(
        user=owner_of(session.exhibitor), session_id=session_id, product_id=product.pk
    )
    return product.pk


async def test_room_pinned_product_reaches_every_viewer():
    session = await public_session()

    async with joined(session.pk) as (first, _), joined(session.pk) as (second, _):
        product_id = await sync_to_async(_pin)(session.pk)
        to_first = await receive_until(first, lambda f: f["type"] == "session.pinned")
        to_second = await receive_until(second, lambda f: f["type"] == "session.pinned")

    expected = {
        "type": "session.pinned",
        "session": session.pk,
        "product": product_id,
        "name": "Air fryer 5 L",
    }
    assert to_first == to_second == expected


async def test_room_event_of_another_session_does_not_arrive():
    session = await public_session()

    async with joined(session.pk) as (socket, _):
        await sync_to_async(send_event)(live_session_group(session.pk + 1000), {"type": "x"})
        nothing = await socket.receive_nothing(timeout=0.3)

    assert nothing is True


async def test_programme_socket_receives_session_live_with_exhibitor():
    session = await public_session()
    socket = WebsocketCommunicator(application, "/ws/live/programme/", headers=[SAME_ORIGIN])
    assert (await socket.connect())[0] is True
    try:
        _key, live = await sync_to_async(_go_live)(session.pk)
        frame = await socket.receive_json_from(timeout=2)
        await socket.send_json_to({"type": "ping"})
        pong = await socket.receive_json_from()
    finally:
        await socket.disconnect()

    assert frame["type"] == "session.live"
    assert (frame["session"], frame["status"], frame["exhibitor"]) == (
        session.pk,
        "live",
        live.exhibitor_id,
    )
    assert pong == {"type": "pong"}


# --- Presence and the viewers timer -------------------------------------------------------


async def test_room_two_sockets_count_two_then_one_and_peak_stays_two_and_is_saved():
    session = await public_session()

    async with joined(session.pk) as (_first, first_greeting):
        async with joined(session.pk) as (_second, second_greeting):
            both = await presence.snapshot(session.pk)
        one_left = await presence.snapshot(session.pk)
    none_left = await presence.snapshot(session.pk)
    stored_peak = await sync_to_async(lambda: LiveSession.objects.get(pk=session.pk).peak_viewers)()

    assert first_greeting[1]["count"] == 1
    assert second_greeting[1] == {"type": "viewers", "session": session.pk, "count": 2, "peak": 2}
    assert (both, one_left, none_left) == ((2, 2), (1, 2), (0, 2))
    assert stored_peak == 2


async def test_room_join_does_not_broadcast_viewers_before_the_timer():
    session = await public_session()

    async with joined(session.pk) as (first, _), joined(session.pk):
        nothing = await first.receive_nothing(timeout=0.3)

    assert nothing is True


async def test_room_viewers_broadcast_arrives_on_timer_when_count_changes(settings):
    settings.LIVE_VIEWERS_INTERVAL = 0.1
    session = await public_session()

    async with joined(session.pk) as (staying, _):
        async with joined(session.pk):
            two = await receive_until(staying, lambda f: f["type"] == "viewers" and f["count"] == 2)
        one = await receive_until(staying, lambda f: f["type"] == "viewers" and f["count"] == 1)
        quiet = await staying.receive_nothing(timeout=0.35)

    assert two == {"type": "viewers", "session": session.pk, "count": 2, "peak": 2}
    assert one == {"type": "viewers", "session": session.pk, "count": 1, "peak": 2}
    assert quiet is True  # the count did not change again: nothing more was sent


async def test_room_stale_entry_of_dead_process_is_not_counted():
    session = await public_session()
    backend = presence.backend
    dead = time.time() - 120
    await backend.client.zadd(backend.key(session.pk, "anon"), {"dead.process!sock": dead})
    await backend.client.zadd(backend.key(session.pk, "users"), {"4242": dead})

    async with joined(session.pk) as (_socket, greeting):
        ids = await presence.user_ids(session.pk)

    assert greeting[1] == {"type": "viewers", "session": session.pk, "count": 1, "peak": 1}
    assert ids == []


# --- Who is watching -----------------------------------------------------------------------


def _audience(session_id: int):
    session = LiveSession.objects.select_related("exhibitor").get(pk=session_id)
    sales = add_member(session.exhibitor, "sales", full_name="Sam Sales")
    anne = make_buyer(full_name="Anne Buyer", company="Riyadh Trading", country="SA")
    anne.buyer_profile.show_identity_in_rooms = True
    anne.buyer_profile.save(update_fields=["show_identity_in_rooms"])
    hidden = make_buyer(full_name="Hidden Buyer", company="Secret Co", country="FR")
    return sales, anne, hidden


async def test_room_viewers_list_for_staff_names_only_consenting_buyers():
    session = await public_session()
    sales, anne, hidden = await sync_to_async(_audience)(session.pk)
    cookies = [await sync_to_async(_cookie_for)(u) for u in (sales, anne, hidden)]

    async with (
        joined(session.pk, SAME_ORIGIN, cookies[0]) as (staff_socket, _),
        joined(session.pk, SAME_ORIGIN, cookies[1]),
        joined(session.pk, SAME_ORIGIN, cookies[2]),
        joined(session.pk),
    ):
        await staff_socket.send_json_to({"type": "viewers.list"})
        answer = await receive_until(staff_socket, lambda f: f["type"] == "viewers.list")

    assert answer == {
        "type": "viewers.list",
        "session": session.pk,
        "count": 4,
        "viewers": [
            {
                "name": "Anne Buyer",
                "company": "Riyadh Trading",
                "country": "SA",
                "follows_booth": False,
            }
        ],
        "others": 2,  # the hidden buyer and the anonymous viewer; the staff member is not
    }
    assert "Hidden Buyer" not in json.dumps(answer)
    assert "Secret Co" not in json.dumps(answer)


async def test_room_viewers_list_asked_twice_at_once_is_rate_limited():
    session = await public_session()
    sales, _anne, _hidden = await sync_to_async(_audience)(session.pk)
    cookie = await sync_to_async(_cookie_for)(sales)

    async with joined(session.pk, SAME_ORIGIN, cookie) as (socket, _):
        await socket.send_json_to({"type": "viewers.list"})
        first = await socket.receive_json_from()
        await socket.send_json_to({"type": "viewers.list"})
        second = await socket.receive_json_from()

    assert (first["type"], first["count"], first["viewers"], first["others"]) == (
        "viewers.list",
        1,
        [],
        0,
    )
    assert second == {
        "type": "error",
        "code": "rate_limited",
        "detail": "Asked too often; try again in a moment.",
    }


async def test_room_viewers_list_by_buyer_or_anonymous_is_forbidden():
    session = await public_session()
    _sales, anne, _hidden = await sync_to_async(_audience)(session.pk)
    cookie = await sync_to_async(_cookie_for)(anne)
    forbidden = {
        "type": "error",
        "code": "forbidden",
        "detail": "Only the exhibitor's staff can see who is watching.",
    }

    async with joined(session.pk, SAME_ORIGIN, cookie) as (buyer_socket, _):
        await buyer_socket.send_json_to({"type": "viewers.list"})
        to_buyer = await buyer_socket.receive_json_from()
        async with joined(session.pk) as (anonymous_socket, _):
            await anonymous_socket.send_json_to({"type": "viewers.list"})
            to_anonymous = await anonymous_socket.receive_json_from()

    assert to_buyer == forbidden
    assert to_anonymous == forbidden


async def test_room_viewers_list_by_staff_of_another_company_is_forbidden():
    session = await public_session()
    other_owner = await sync_to_async(lambda: owner_of(make_exhibitor(name="Rival Co")))()
    cookie = await sync_to_async(_cookie_for)(other_owner)

    async with joined(session.pk, SAME_ORIGIN, cookie) as (socket, greeting):
        await socket.send_json_to({"type": "viewers.list"})
        answer = await socket.receive_json_from()

    assert greeting[0]["is_staff"] is False
    assert answer["code"] == "forbidden"


# --- Frames --------------------------------------------------------------------------------


async def test_room_malformed_frames_get_error_frames_and_socket_survives():
    session = await public_session()

    async with joined(session.pk) as (socket, _):
        await socket.send_to(text_data='{"type": "ping",')
        bad_json = await socket.receive_json_from()
        await socket.send_to(text_data="[1, 2]")
        bad_message = await socket.receive_json_from()
        await socket.send_json_to({"type": "chat.delete", "seq": 1})
        unknown = await socket.receive_json_from()
        await socket.send_json_to({"type": "ping"})
        pong = await socket.receive_json_from()

    assert bad_json == {
        "type": "error",
        "code": "bad_json",
        "detail": "The message is not valid JSON.",
    }
    assert bad_message["code"] == "bad_message"
    assert unknown == {
        "type": "error",
        "code": "unknown_type",
        "detail": "Unknown message type 'chat.delete'.",
    }
    assert pong == {"type": "pong"}


async def test_room_frame_of_70_kb_is_refused_and_socket_closed_1009():
    session = await public_session()
    socket = room(session.pk)
    assert (await socket.connect())[0] is True
    await socket.receive_json_from()
    await socket.receive_json_from()
    await socket.receive_json_from()

    await socket.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * (70 * 1024)}))
    error = await socket.receive_json_from()
    closed = await socket.receive_output()
    await socket.disconnect()
    await asyncio.sleep(0)

    assert error == {"type": "error", "code": "too_large", "detail": "That message is too large."}
    assert closed == {"type": "websocket.close", "code": CLOSE_TOO_BIG}
    assert await presence.snapshot(session.pk) == (0, 1)
