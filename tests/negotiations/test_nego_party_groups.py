"""Negotiation traffic goes to the parties' negotiation sockets only (``events.party_group``):
a user's other sockets (notices on every page) carry none of it, and a sender whose only
socket is the sending one publishes nothing to its own group."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from fair.asgi import application
from negotiations.events import party_group
from tests.negotiations.nego_factories import Cast, client_id
from tests.negotiations.test_nego_consumer import (
    SAME_ORIGIN,
    _close_thread_connections,  # noqa: F401 (autouse fixture)
    _cookie,
    frames_until,
    reference_data,  # noqa: F401 (autouse fixture)
    socket_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cast(transactional_db):
    return Cast()


async def _notices_of(user) -> WebsocketCommunicator:
    from asgiref.sync import sync_to_async

    socket = WebsocketCommunicator(
        application, "/ws/notices/", headers=[SAME_ORIGIN, await sync_to_async(_cookie)(user)]
    )
    connected, _ = await socket.connect()
    assert connected is True
    return socket


async def test_a_users_notices_socket_carries_no_negotiation_traffic(cast):
    notices = await _notices_of(cast.buyer)
    try:
        async with socket_of(cast.buyer) as buyer, socket_of(cast.sales) as sales:
            await sales.send_json_to(
                {"type": "nego.typing", "negotiation": cast.room.pk},
            )
            await sales.send_json_to(
                {
                    "type": "nego.send",
                    "negotiation": cast.room.pk,
                    "client_id": client_id(),
                    "body": "Our price is 3.20",
                }
            )
            typing = await frames_until(buyer, "nego.typing")
            delivered = await frames_until(buyer, "nego.message")
            # The buyer's page socket for notices saw none of it.
            assert await notices.receive_nothing(timeout=0.5) is True
    finally:
        await notices.disconnect()

    assert (typing["negotiation"], typing["side"]) == (cast.room.pk, "exhibitor")
    assert (delivered["body"], delivered["side"]) == ("Our price is 3.20", "exhibitor")


async def test_a_sender_with_one_socket_publishes_only_to_the_other_party(cast, monkeypatch):
    layer = get_channel_layer()
    published: list[tuple[str, str]] = []
    real_group_send = layer.group_send  # the consumers share this process's layer

    async def spy(group, message):
        published.append((group, message.get("type", "")))
        return await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", spy)
    async with socket_of(cast.buyer) as buyer, socket_of(cast.sales) as sales:
        await buyer.send_json_to(
            {"type": "nego.send", "negotiation": cast.room.pk, "client_id": client_id(),
             "body": "Alone"}
        )  # fmt: skip
        await frames_until(buyer, "nego.ack")
        await frames_until(sales, "nego.message")
        alone = [group for group, kind in published if kind == "realtime.event"]
        published.clear()

        # A second socket of the buyer (another tab) is counted: now it is published to.
        async with socket_of(cast.buyer) as other_tab:
            await buyer.send_json_to(
                {"type": "nego.send", "negotiation": cast.room.pk, "client_id": client_id(),
                 "body": "Two tabs"}
            )  # fmt: skip
            await frames_until(buyer, "nego.ack")
            mirrored = await frames_until(other_tab, "nego.message")
            two_tabs = [group for group, kind in published if kind == "realtime.event"]

    staff_groups = {party_group(user.pk) for user in (cast.owner, cast.admin, cast.sales)}
    assert set(alone) == staff_groups
    assert len(alone) == len(staff_groups)
    assert set(two_tabs) == staff_groups | {party_group(cast.buyer.pk)}
    assert mirrored["body"] == "Two tabs"
