"""The websocket path end to end: origin check, session auth, the frame parser of
FairJsonConsumer, and fair.realtime broadcasting through the real Redis pub/sub layer."""

from __future__ import annotations

import contextlib
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.db import connections, transaction

from fair.asgi import application
from fair.consumers import CLOSE_TOO_BIG
from fair.realtime import encode_event, health_group, send_event, send_event_on_commit
from tests.factories import make_user

HEALTH_PATH = "/ws/health/"
SAME_ORIGIN = (b"origin", b"http://testserver")


class Rollback(Exception):
    pass


def communicator(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, HEALTH_PATH, headers=list(headers))


@contextlib.asynccontextmanager
async def health_socket(*headers: tuple[bytes, bytes]):
    socket = communicator(*headers) if headers else communicator(SAME_ORIGIN)
    connected, _ = await socket.connect()
    assert connected is True
    try:
        yield socket
    finally:
        await socket.disconnect()


async def close_thread_connections() -> None:
    # Database work of these tests runs in asgiref's single sync thread; its connections
    # must not outlive the test (they would keep the test database from being dropped).
    await sync_to_async(connections.close_all)()


async def ping(socket: WebsocketCommunicator, echo: str = "x") -> dict:
    await socket.send_json_to({"type": "ping", "echo": echo})
    return await socket.receive_json_from()


def test_channel_layer_in_use_is_redis_pubsub():
    layer = get_channel_layer()

    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
    )
    assert isinstance(layer, RedisPubSubChannelLayer)


# --- Origin check ---


async def test_health_same_origin_connects_and_answers_ping():
    async with health_socket(SAME_ORIGIN) as socket:
        reply = await ping(socket, "x")

    assert reply == {"type": "pong", "authenticated": False, "echo": "x"}


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", b"https://evil.example")],
        [(b"origin", b"http://testserver.evil.example")],
        [(b"origin", b"null")],
        [],
    ],
    ids=["foreign", "look-alike", "null", "missing"],
)
async def test_health_foreign_or_missing_origin_is_refused(headers):
    socket = WebsocketCommunicator(application, HEALTH_PATH, headers=headers)

    connected, _ = await socket.connect()

    assert connected is False


# --- Frame parser ---


async def test_health_malformed_json_answers_bad_json_and_stays_open():
    async with health_socket() as socket:
        await socket.send_to(text_data='{"type": "ping",')
        error = await socket.receive_json_from()
        reply = await ping(socket, "after")

    assert error == {
        "type": "error",
        "code": "bad_json",
        "detail": "The message is not valid JSON.",
    }
    assert reply == {"type": "pong", "authenticated": False, "echo": "after"}


async def test_health_deeply_nested_json_answers_bad_json_and_stays_open():
    async with health_socket() as socket:
        await socket.send_to(text_data="[" * 50_000)
        error = await socket.receive_json_from()
        reply = await ping(socket)

    assert error["code"] == "bad_json"
    assert reply["type"] == "pong"


@pytest.mark.parametrize(
    "frame",
    ["[1, 2]", '"ping"', "42", '{"echo": "x"}', '{"type": 5}'],
    ids=["list", "string", "number", "missing-type", "non-string-type"],
)
async def test_health_non_object_or_missing_type_answers_bad_message(frame):
    async with health_socket() as socket:
        await socket.send_to(text_data=frame)
        error = await socket.receive_json_from()
        reply = await ping(socket)

    assert error == {
        "type": "error",
        "code": "bad_message",
        "detail": "A message must be an object with a 'type'.",
    }
    assert reply["type"] == "pong"


async def test_health_unknown_type_answers_unknown_type():
    async with health_socket() as socket:
        await socket.send_json_to({"type": "chat.send", "body": "hello"})
        error = await socket.receive_json_from()
        reply = await ping(socket)

    assert error == {
        "type": "error",
        "code": "unknown_type",
        "detail": "Unknown message type 'chat.send'.",
    }
    assert reply["type"] == "pong"


async def test_health_binary_frame_answers_binary_not_supported():
    async with health_socket() as socket:
        await socket.send_to(bytes_data=b"\x00\x01")
        error = await socket.receive_json_from()

    assert error == {
        "type": "error",
        "code": "binary_not_supported",
        "detail": "Send JSON text frames.",
    }


async def test_health_frame_over_64_kb_answers_too_large_and_closes_1009():
    socket = communicator(SAME_ORIGIN)
    assert (await socket.connect())[0] is True
    frame = json.dumps({"type": "ping", "echo": "x" * (70 * 1024)})

    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from()
    closed = await socket.receive_output()

    assert error == {"type": "error", "code": "too_large", "detail": "That message is too large."}
    assert closed == {"type": "websocket.close", "code": CLOSE_TOO_BIG}
    assert CLOSE_TOO_BIG == 1009


async def test_health_frame_under_64_kb_is_answered():
    echo = "x" * (60 * 1024)
    async with health_socket() as socket:
        reply = await ping(socket, echo)

    assert reply == {"type": "pong", "authenticated": False, "echo": echo}


# --- Broadcasting through the channel layer ---


async def test_send_event_to_health_group_reaches_socket_as_encoded_json():
    event = {"type": "notice", "body": "Grüße aus Riyadh", "n": 1}
    async with health_socket() as socket:
        await sync_to_async(send_event)(health_group(), event)
        received = await socket.receive_from()
        nothing_more = await socket.receive_nothing(timeout=0.2)

    assert received == encode_event(event)
    assert received == '{"type":"notice","body":"Grüße aus Riyadh","n":1}'
    assert nothing_more is True


async def test_send_event_to_other_group_does_not_reach_health_socket():
    async with health_socket() as socket:
        await sync_to_async(send_event)("live.999999", {"type": "notice"})
        nothing = await socket.receive_nothing(timeout=0.3)

    assert nothing is True


def _send_in_rolled_back_transaction(event: dict) -> None:
    with contextlib.suppress(Rollback), transaction.atomic():
        send_event_on_commit(health_group(), event)
        raise Rollback


def _send_in_committed_transaction(event: dict) -> None:
    with transaction.atomic():
        send_event_on_commit(health_group(), event)


@pytest.mark.django_db(transaction=True)
async def test_send_event_on_commit_rolled_back_sends_nothing():
    try:
        async with health_socket() as socket:
            await sync_to_async(_send_in_rolled_back_transaction)({"type": "notice", "n": 1})
            nothing = await socket.receive_nothing(timeout=0.5)
    finally:
        await close_thread_connections()

    assert nothing is True


@pytest.mark.django_db(transaction=True)
async def test_send_event_on_commit_committed_sends_once():
    event = {"type": "notice", "n": 2}
    try:
        async with health_socket() as socket:
            await sync_to_async(_send_in_committed_transaction)(event)
            received = await socket.receive_from()
            nothing_more = await socket.receive_nothing(timeout=0.3)
    finally:
        await close_thread_connections()

    assert received == '{"type":"notice","n":2}'
    assert nothing_more is True


# --- Authentication ---


def _logged_in_session_cookie(client) -> tuple[bytes, bytes]:
    client.force_login(make_user())
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_id}".encode())


@pytest.mark.django_db(transaction=True)
async def test_health_socket_with_session_cookie_is_authenticated(client):
    try:
        cookie = await sync_to_async(_logged_in_session_cookie)(client)
        async with health_socket(SAME_ORIGIN, cookie) as socket:
            reply = await ping(socket, "me")
    finally:
        await close_thread_connections()

    assert reply == {"type": "pong", "authenticated": True, "echo": "me"}


@pytest.mark.django_db(transaction=True)
async def test_health_socket_with_unknown_session_cookie_is_anonymous():
    cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}=no-such-session-key".encode())
    try:
        async with health_socket(SAME_ORIGIN, cookie) as socket:
            reply = await ping(socket, "me")
    finally:
        await close_thread_connections()

    assert reply == {"type": "pong", "authenticated": False, "echo": "me"}
