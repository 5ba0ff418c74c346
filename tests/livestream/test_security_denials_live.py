"""Refusals of the stream room's socket in the security log (SECURITY J2): an unknown room
closed with 4404 at the handshake and a moderation attempt answered ``forbidden`` are one
``authz.denied`` line each; watching the room logs none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fair.asgi import application
from fair.security_log import LOGGER_NAME
from livestream import services
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer
from tests.livestream.test_chat_consumer import (  # noqa: F401 (autouse fixtures)
    _close_thread_connections,
    _quiet_timers,
    reference_data,
)

pytestmark = pytest.mark.django_db(transaction=True)

SAME_ORIGIN = (b"origin", b"http://testserver")


def _room_and_buyer() -> tuple[int, object]:
    exhibitor = make_exhibitor()
    start = timezone.now() - timedelta(minutes=5)
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )
    return session.pk, make_buyer()


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}".encode())


def denials(caplog) -> list[dict]:
    return [
        {k: v for k, v in record.security.items() if k not in ("ts", "ip")}
        for record in caplog.records
        if record.name == LOGGER_NAME and record.security["event"] == "authz.denied"
    ]


async def test_unknown_room_refused_with_4404_is_logged(caplog):
    socket = WebsocketCommunicator(application, "/ws/live/999999/", headers=[SAME_ORIGIN])

    connected, code = await socket.connect()

    assert (connected, code) == (False, 4404)
    assert denials(caplog) == [
        {
            "event": "authz.denied",
            "outcome": "denied",
            "user_id": None,
            "path": "/ws/live/999999/",
            "channel": "ws",
            "consumer": "LiveRoomConsumer",
            "reason": "not_found",
            "close_code": 4404,
            "live_session": 999999,
        }
    ]


async def test_buyer_moderation_attempt_is_forbidden_and_logged_once(caplog):
    session_id, buyer = await sync_to_async(_room_and_buyer)()
    path = f"/ws/live/{session_id}/"
    socket = WebsocketCommunicator(
        application, path, headers=[SAME_ORIGIN, await sync_to_async(_cookie)(buyer)]
    )
    assert (await socket.connect())[0] is True
    try:
        while (await socket.receive_json_from(timeout=3))["type"] != "chat.history":
            pass
        assert denials(caplog) == []

        await socket.send_json_to({"type": "chat.hide", "seq": 1})
        error = await socket.receive_json_from(timeout=3)
        while error["type"] != "error":
            error = await socket.receive_json_from(timeout=3)
    finally:
        await socket.disconnect()

    assert error["code"] == "forbidden"
    assert denials(caplog) == [
        {
            "event": "authz.denied",
            "outcome": "denied",
            "user_id": buyer.pk,
            "path": path,
            "channel": "ws",
            "consumer": "LiveRoomConsumer",
            "reason": "not_moderator",
            "error": "forbidden",
        }
    ]
