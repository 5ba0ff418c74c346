"""Refused websockets in the security log (SECURITY J2): a handshake closed with 4401 or 4403
and a ``not_found`` frame for someone else's room are one ``authz.denied`` line each, with
the user, the socket's path and consumer and the reason; a party's own actions log none."""

from __future__ import annotations

import importlib
import logging

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from fair.asgi import application
from fair.security_log import LOGGER_NAME
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.factories import make_buyer
from tests.negotiations.nego_factories import Cast, client_id

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/negotiations/"
SAME_ORIGIN = (b"origin", b"http://testserver")
ADDRESS = "10.4.5.6"


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def _info(caplog):
    caplog.set_level(logging.INFO)


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


async def _socket(path: str, user=None) -> WebsocketCommunicator:
    headers = [SAME_ORIGIN]
    if user is not None:
        headers.append(await sync_to_async(_cookie)(user))
    socket = WebsocketCommunicator(application, path, headers=headers)
    # The peer address Daphne puts in the scope (the test communicator leaves it out); set
    # before the application first runs, at the communicator's first await.
    socket.scope["client"] = [ADDRESS, 50000]
    return socket


def denials(caplog) -> list[dict]:
    return [
        {k: v for k, v in record.security.items() if k != "ts"}
        for record in caplog.records
        if record.name == LOGGER_NAME and record.security["event"] == "authz.denied"
    ]


async def test_anonymous_handshake_refused_with_4401_is_logged(caplog):
    socket = await _socket(PATH)

    connected, code = await socket.connect()

    assert (connected, code) == (False, 4401)
    assert denials(caplog) == [
        {
            "event": "authz.denied",
            "outcome": "denied",
            "user_id": None,
            "ip": ADDRESS,
            "path": PATH,
            "channel": "ws",
            "consumer": "NegotiationConsumer",
            "reason": "not_signed_in",
            "close_code": 4401,
        }
    ]


async def test_buyer_at_the_organisers_dashboard_socket_refused_with_4403_is_logged(caplog):
    buyer = await sync_to_async(make_buyer)()
    socket = await _socket("/ws/organiser/", buyer)

    connected, code = await socket.connect()

    assert (connected, code) == (False, 4403)
    assert denials(caplog) == [
        {
            "event": "authz.denied",
            "outcome": "denied",
            "user_id": buyer.pk,
            "ip": ADDRESS,
            "path": "/ws/organiser/",
            "channel": "ws",
            "consumer": "OrganiserConsumer",
            "reason": "not_organiser",
            "close_code": 4403,
        }
    ]


async def _resume_and_send(user, room_id: int, body: str) -> tuple[dict, dict]:
    """A socket of ``user`` asks for ``room_id``'s history, then sends into it: both answers."""
    socket = await _socket(PATH, user)
    assert (await socket.connect())[0] is True
    assert (await socket.receive_json_from(timeout=3))["type"] == "nego.ready"
    try:
        await socket.send_json_to({"type": "nego.resume", "negotiation": room_id, "after": 0})
        resumed = await socket.receive_json_from(timeout=3)
        await socket.send_json_to(
            {"type": "nego.send", "negotiation": room_id, "client_id": client_id(), "body": body}
        )
        return resumed, await socket.receive_json_from(timeout=3)
    finally:
        await socket.disconnect()


async def test_someone_elses_room_answers_not_found_and_each_refusal_is_logged(caplog):
    cast = await sync_to_async(Cast)()
    resumed, sent = await _resume_and_send(cast.other_buyer, cast.room.pk, "Let me in")

    assert (resumed["code"], sent["code"]) == ("not_found", "not_found")
    refusal = {
        "event": "authz.denied",
        "outcome": "denied",
        "user_id": cast.other_buyer.pk,
        "ip": ADDRESS,
        "path": PATH,
        "channel": "ws",
        "consumer": "NegotiationConsumer",
        "reason": "not_found",
        "error": "not_found",
        "negotiation": cast.room.pk,
    }
    assert denials(caplog) == [refusal, refusal]
    assert "Let me in" not in caplog.text


async def test_a_partys_own_room_actions_log_no_denial(caplog):
    cast = await sync_to_async(Cast)()
    resumed, acked = await _resume_and_send(cast.buyer, cast.room.pk, "Hi")

    assert (resumed["type"], acked["type"]) == ("nego.history", "nego.ack")
    assert denials(caplog) == []
