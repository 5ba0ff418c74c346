"""Logging out closes the user's open websockets (SECURITY C2), and only theirs."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.urls import reverse

from fair.asgi import application
from fair.consumers import CLOSE_LOGGED_OUT
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


def _signed_in_client():
    client = Client()
    client.force_login(make_user())
    return client


def _cookie(client) -> tuple[bytes, bytes]:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


async def _socket(client) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application, "/ws/health/", headers=[(b"origin", b"http://testserver"), _cookie(client)]
    )
    connected, _ = await socket.connect()
    assert connected is True
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["authenticated"] is True
    return socket


async def test_logout_closes_that_users_sockets_and_not_others():
    anne = await sync_to_async(_signed_in_client)()
    bob = await sync_to_async(_signed_in_client)()
    anne_socket = await _socket(anne)
    bob_socket = await _socket(bob)

    response = await sync_to_async(anne.post)(reverse("logout"))

    assert response.status_code == 302
    closed = await anne_socket.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": CLOSE_LOGGED_OUT}
    await bob_socket.send_json_to({"type": "ping"})
    assert (await bob_socket.receive_json_from(timeout=3))["type"] == "pong"
    await bob_socket.disconnect()
