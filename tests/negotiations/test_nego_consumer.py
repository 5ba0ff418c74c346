"""The negotiations websocket (/ws/negotiations/): sign-in at connect, send / ack / broadcast,
idempotent retries, resume, typing, read receipts, and every service change arriving on both
parties' sockets and nowhere else (SECURITY A3, A8, A9, K2, K3). Real Redis channel layer,
real PostgreSQL."""

from __future__ import annotations

import contextlib
import importlib
import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from fair.asgi import application
from negotiations import services
from negotiations.consumers import CLOSE_SIGN_IN
from negotiations.models import Message
from negotiations.presence import presence
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.negotiations.nego_factories import Cast, client_id, make_quote, make_room, send

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/negotiations/"
SAME_ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


@contextlib.asynccontextmanager
async def socket_of(user):
    headers = [SAME_ORIGIN]
    if user is not None:
        headers.append(await sync_to_async(_cookie)(user))
    socket = WebsocketCommunicator(application, PATH, headers=headers)
    connected, _ = await socket.connect()
    assert connected is True
    try:
        ready = await socket.receive_json_from(timeout=3)
        assert ready["type"] == "nego.ready"
        socket.ready = ready
        yield socket
    finally:
        await socket.disconnect()


async def frames_until(socket, wanted: str, *, timeout: float = 3) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] in (wanted, "error"):
            return frame


async def drain(socket, seconds: float = 0.5) -> list[dict]:
    """Every frame arriving within ``seconds`` (to prove that nothing else came)."""
    frames = []
    # receive_nothing, not a receive that times out: a timed-out receive kills the consumer.
    while not await socket.receive_nothing(timeout=seconds, interval=0.02):
        frames.append(await socket.receive_json_from(timeout=1))
    return frames


@pytest.fixture
async def cast():
    return await sync_to_async(Cast)()


# --- Connect --------------------------------------------------------------------------------


async def test_anonymous_socket_refused_before_it_opens():
    socket = WebsocketCommunicator(application, PATH, headers=[SAME_ORIGIN])
    connected, code = await socket.connect()

    assert (connected, code) == (False, CLOSE_SIGN_IN)


async def test_signed_in_socket_says_ready_with_unread_rooms_and_is_present(cast):
    await sync_to_async(send)(cast.buyer, cast.room, "Hello")

    async with socket_of(cast.sales) as socket:
        assert socket.ready == {"type": "nego.ready", "unread": 1}
        assert await sync_to_async(presence.online)(cast.sales.pk) is True
    assert await sync_to_async(presence.online)(cast.sales.pk) is False


# --- Send, ack, broadcast -------------------------------------------------------------------


async def test_send_acks_the_sender_and_reaches_both_parties_only(cast):
    cid = client_id()
    async with (
        socket_of(cast.buyer) as buyer,
        socket_of(cast.buyer) as buyer_other_tab,
        socket_of(cast.sales) as sales,
        socket_of(cast.other_buyer) as other_buyer,
        socket_of(cast.other_staff) as other_staff,
    ):
        await buyer.send_json_to(
            {"type": "nego.send", "negotiation": cast.room.pk, "client_id": cid, "body": " Hi! "}
        )
        ack = await frames_until(buyer, "nego.ack")
        delivered = await frames_until(sales, "nego.message")
        other_tab = await frames_until(buyer_other_tab, "nego.message")
        # The sending socket has the ack: the broadcast is not echoed to it.
        more_for_sender = await drain(buyer)
        outsiders = await drain(other_buyer) + await drain(other_staff)

    assert {k: ack[k] for k in ("type", "negotiation", "client_id", "seq")} == {
        "type": "nego.ack",
        "negotiation": cast.room.pk,
        "client_id": cid,
        "seq": 2,
    }
    assert more_for_sender == []
    assert delivered == other_tab
    assert {
        k: delivered[k] for k in ("negotiation", "seq", "client_id", "kind", "side", "body")
    } == {
        "negotiation": cast.room.pk,
        "seq": 2,
        "client_id": cid,
        "kind": "text",
        "side": "buyer",
        "body": "Hi!",
    }
    assert delivered["author"] == {"id": cast.buyer.pk, "name": "Anne Buyer"}
    assert delivered["sent_at"] == ack["sent_at"]
    assert (delivered["attachment"], delivered["quote"], delivered["event"]) == (None, None, "")
    assert outsiders == []
    stored = await sync_to_async(Message.objects.get)(client_id=cid)
    assert (stored.seq, stored.body, stored.side, stored.author_id) == (
        2,
        "Hi!",
        "buyer",
        cast.buyer.pk,
    )


async def test_send_retry_with_same_client_id_acks_again_without_second_message(cast):
    cid = client_id()
    frame = {"type": "nego.send", "negotiation": cast.room.pk, "client_id": cid, "body": "Hi"}
    async with socket_of(cast.buyer) as buyer, socket_of(cast.owner) as owner:
        await buyer.send_json_to(frame)
        first = await frames_until(buyer, "nego.ack")
        await frames_until(owner, "nego.message")
        await buyer.send_json_to({**frame, "body": "Hi (retry)"})
        second = await frames_until(buyer, "nego.ack")
        more_for_owner = await drain(owner)

    assert (first["seq"], second["seq"]) == (2, 2)
    assert more_for_owner == []
    assert await sync_to_async(Message.objects.filter(client_id=cid).count)() == 1


@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
async def test_send_by_non_party_is_not_found_and_stores_nothing(cast, role):
    cid = client_id()
    async with socket_of(cast.role(role)) as outsider, socket_of(cast.buyer) as buyer:
        await outsider.send_json_to(
            {"type": "nego.send", "negotiation": cast.room.pk, "client_id": cid, "body": "x"}
        )
        error = await frames_until(outsider, "nego.ack")
        seen_by_buyer = await drain(buyer)

    assert (error["type"], error["code"], error["client_id"]) == ("error", "not_found", cid)
    assert error["detail"] == "No such negotiation."
    assert seen_by_buyer == []
    assert await sync_to_async(Message.objects.filter(client_id=cid).exists)() is False


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "nego.send", "client_id": "abcdefgh-1", "body": "x"}, "invalid"),
        ({"type": "nego.send", "negotiation": "1", "client_id": "abcdefgh-1"}, "invalid"),
        ({"type": "nego.resume", "negotiation": 1, "after": -1}, "invalid"),
        ({"type": "nego.read", "negotiation": 1, "seq": "x"}, "invalid"),
        ({"type": "nego.typing"}, "invalid"),
        ({"type": "nego.nonsense"}, "unknown_type"),
    ],
)
async def test_malformed_actions_get_error_frames_and_the_socket_survives(cast, frame, code):
    async with socket_of(cast.buyer) as buyer:
        await buyer.send_json_to(frame)
        error = await frames_until(buyer, "never")
        await buyer.send_json_to({"type": "ping"})
        pong = await frames_until(buyer, "pong")

    assert (error["type"], error["code"]) == ("error", code)
    assert pong == {"type": "pong"}


async def test_send_in_closed_room_refused_with_code(cast):
    await sync_to_async(services.negotiation_close)(user=cast.owner, negotiation_id=cast.room.pk)
    async with socket_of(cast.buyer) as buyer:
        await buyer.send_json_to(
            {
                "type": "nego.send",
                "negotiation": cast.room.pk,
                "client_id": client_id(),
                "body": "x",
            }
        )
        error = await frames_until(buyer, "nego.ack")

    assert (error["code"], error["negotiation"]) == ("closed", cast.room.pk)


async def test_send_in_suspended_exhibitors_room_is_read_only_and_reaches_nobody(cast, settings):
    from exhibitors import services as exhibitor_services
    from tests.factories import make_organiser

    settings.NEGO_MESSAGES_PER_MINUTE = 1
    organiser = await sync_to_async(make_organiser)()
    await sync_to_async(exhibitor_services.exhibitor_suspend)(
        actor=organiser, exhibitor_id=cast.exhibitor.pk, reason="Fake certificates"
    )
    async with socket_of(cast.buyer) as buyer, socket_of(cast.sales) as sales:
        errors = []
        for _ in range(2):  # refusals do not count against the limit of one a minute
            cid = client_id()
            await sales.send_json_to(
                {"type": "nego.send", "negotiation": cast.room.pk, "client_id": cid, "body": "x"}
            )
            errors.append((cid, await frames_until(sales, "nego.ack")))
        seen_by_buyer = await drain(buyer)
        await sync_to_async(exhibitor_services.exhibitor_reinstate)(
            actor=organiser, exhibitor_id=cast.exhibitor.pk
        )
        await sales.send_json_to(
            {
                "type": "nego.send",
                "negotiation": cast.room.pk,
                "client_id": client_id(),
                "body": "y",
            }
        )
        ack = await frames_until(sales, "nego.ack")
        delivered = await frames_until(buyer, "nego.message")

    for cid, error in errors:
        assert error == {
            "type": "error",
            "code": "read_only",
            "detail": "This exhibitor is suspended; the conversation is read-only.",
            "negotiation": cast.room.pk,
            "client_id": cid,
        }
    assert seen_by_buyer == []
    assert (ack["type"], ack["seq"], delivered["seq"], delivered["body"]) == ("nego.ack", 2, 2, "y")


async def test_rate_limited_sender_gets_retry_after(cast, settings):
    settings.NEGO_MESSAGES_PER_MINUTE = 2
    async with socket_of(cast.buyer) as buyer:
        codes = []
        for _ in range(3):
            await buyer.send_json_to(
                {
                    "type": "nego.send",
                    "negotiation": cast.room.pk,
                    "client_id": client_id(),
                    "body": "x",
                }
            )
            codes.append(await frames_until(buyer, "nego.ack"))

    assert [c["type"] for c in codes] == ["nego.ack", "nego.ack", "error"]
    assert codes[2]["code"] == "rate_limited"
    assert 1 <= codes[2]["retry_after"] <= 60


# --- Resume, typing, read -------------------------------------------------------------------


async def test_resume_returns_exactly_the_missed_messages(cast):
    for body in ("a", "b", "c"):
        await sync_to_async(send)(cast.owner, cast.room, body)

    async with socket_of(cast.buyer) as buyer, socket_of(cast.other_buyer) as other:
        await buyer.send_json_to({"type": "nego.resume", "negotiation": cast.room.pk, "after": 2})
        history = await frames_until(buyer, "nego.history")
        await other.send_json_to({"type": "nego.resume", "negotiation": cast.room.pk, "after": 0})
        refused = await frames_until(other, "nego.history")

    assert [m["seq"] for m in history["messages"]] == [3, 4]
    assert [m["body"] for m in history["messages"]] == ["b", "c"]
    assert (history["complete"], history["resumed"]) == (True, True)
    assert (refused["type"], refused["code"]) == ("error", "not_found")
    assert "messages" not in refused


async def test_typing_reaches_the_other_parties_only(cast):
    async with (
        socket_of(cast.buyer) as buyer,
        socket_of(cast.sales) as sales,
        socket_of(cast.other_buyer) as other,
    ):
        await buyer.send_json_to({"type": "nego.typing", "negotiation": cast.room.pk})
        typing = await frames_until(sales, "nego.typing")
        echoed = await drain(buyer)
        await other.send_json_to({"type": "nego.typing", "negotiation": cast.room.pk})
        refused = await frames_until(other, "nego.typing")
        leaked = await drain(sales)

    assert typing == {
        "type": "nego.typing",
        "negotiation": cast.room.pk,
        "side": "buyer",
        "name": "Anne Buyer",
    }
    assert echoed == []
    assert (refused["type"], refused["code"]) == ("error", "not_found")
    assert leaked == []


async def test_read_receipt_reaches_both_parties(cast):
    await sync_to_async(send)(cast.buyer, cast.room, "Hello")
    async with socket_of(cast.buyer) as buyer, socket_of(cast.admin) as admin:
        await admin.send_json_to({"type": "nego.read", "negotiation": cast.room.pk, "seq": 2})
        receipt = await frames_until(buyer, "nego.read")
        own = await frames_until(admin, "nego.read")

    assert (
        receipt
        == own
        == {
            "type": "nego.read",
            "negotiation": cast.room.pk,
            "side": "exhibitor",
            "seq": 2,
        }
    )


# --- Service changes arrive on both sides, and nowhere else ---------------------------------


async def test_quote_accept_events_reach_both_parties_and_no_one_else(cast):
    quote = await sync_to_async(make_quote)(
        cast.owner, cast.room, quantity=Decimal("2"), unit_price=Decimal("10")
    )
    async with (
        socket_of(cast.buyer) as buyer,
        socket_of(cast.sales) as sales,
        socket_of(cast.other_buyer) as other,
    ):
        await sync_to_async(services.quote_accept)(user=cast.buyer, quote_id=quote.pk)
        for_buyer = [await buyer.receive_json_from(timeout=3) for _ in range(3)]
        for_sales = [await sales.receive_json_from(timeout=3) for _ in range(3)]
        leaked = await drain(other)

    assert for_buyer == for_sales
    by_type = {frame["type"]: frame for frame in for_buyer}
    assert set(by_type) == {"nego.quote", "nego.message", "nego.status"}
    assert by_type["nego.quote"]["quote"]["status"] == "accepted"
    assert by_type["nego.quote"]["quote"]["intent"]["total"] == "20.00"
    assert by_type["nego.message"]["event"] == "quote_accepted"
    assert by_type["nego.status"] == {
        "type": "nego.status",
        "negotiation": cast.room.pk,
        "status": "agreed",
    }
    assert leaked == []


async def test_frames_of_two_rooms_go_only_to_their_own_parties(cast):
    second = await sync_to_async(make_room)(exhibitor=cast.exhibitor, buyer=cast.other_buyer)
    async with socket_of(cast.buyer) as buyer, socket_of(cast.other_buyer) as other:
        await sync_to_async(send)(cast.owner, cast.room, "For Anne")
        await sync_to_async(send)(cast.owner, second, "For Bob")
        anne = await drain(buyer, 1)
        bob = await drain(other, 1)

    assert {f["negotiation"] for f in anne} == {cast.room.pk}
    assert {f["negotiation"] for f in bob} == {second.pk}
    assert "For Bob" not in json.dumps(anne) and "For Anne" not in json.dumps(bob)


async def test_removed_staff_member_gets_nothing_more_and_cannot_send(cast):
    async with socket_of(cast.sales) as sales:
        await sync_to_async(cast.exhibitor.members.filter(user=cast.sales).delete)()
        await sync_to_async(send)(cast.buyer, cast.room, "Secret price")
        received = await drain(sales, 1)
        await sales.send_json_to(
            {
                "type": "nego.send",
                "negotiation": cast.room.pk,
                "client_id": client_id(),
                "body": "x",
            }
        )
        refused = await frames_until(sales, "nego.ack")

    assert received == []
    assert refused["code"] == "not_found"


async def test_logout_closes_the_negotiations_socket(cast):
    from fair.realtime import user_sockets_close_on_commit

    async with socket_of(cast.buyer) as buyer:
        await sync_to_async(user_sockets_close_on_commit)(cast.buyer.pk)
        closed = await buyer.receive_output(timeout=3)

    assert closed == {"type": "websocket.close", "code": 4401}


async def test_owner_of_room_receives_message_sent_through_the_service(cast):
    async with socket_of(cast.owner) as owner:
        await sync_to_async(send)(cast.buyer, cast.room, "Price for 500?")
        frame = await frames_until(owner, "nego.message")

    assert (frame["seq"], frame["body"], frame["side"]) == (2, "Price for 500?", "buyer")
