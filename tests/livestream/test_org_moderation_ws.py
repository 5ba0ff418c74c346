"""Moderation over the room's socket is audited, and a decision taken in the organisers'
queue reaches the open rooms at once (real Redis channel layer, PostgreSQL)."""

from __future__ import annotations

import importlib

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import Client
from django.urls import reverse

from fair.models import AuditEntry
from livestream.models import ChatMessage, ChatRestriction
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.factories import make_buyer, make_organiser
from tests.livestream.test_chat_consumer import Socket, _chat_send, cookie, world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
def _quiet_timers(settings):
    settings.LIVE_VIEWERS_INTERVAL = 30


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


@sync_to_async
def _audit() -> list[tuple]:
    return list(
        AuditEntry.objects.exclude(action__startswith="exhibitor.")
        .order_by("pk")
        .values_list("action", "actor_id")
    )


async def test_room_moderation_by_staff_is_audited_refused_attempts_are_not():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    other = await Socket(w["session"], await cookie(w["buyer2"])).open()
    staff = await Socket(w["session"], await cookie(w["sales"])).open()
    await _chat_send(buyer, "audit-0001", "first")
    await _chat_send(buyer, "audit-0002", "second")

    await other.send({"type": "chat.hide", "seq": 1})  # a buyer: forbidden
    assert (await other.wait_for("error"))["code"] == "forbidden"
    await staff.send({"type": "chat.hide", "seq": 1})
    await staff.wait_for("chat.hidden")
    await staff.send({"type": "chat.unhide", "seq": 1})
    shown = await buyer.wait_for("chat.unhidden")
    await staff.send({"type": "chat.slow_mode", "seconds": 20})
    await staff.wait_for("chat.slow_mode")
    await staff.send({"type": "chat.mute", "seq": 2, "minutes": 5})
    assert (await staff.wait_for("chat.restricted"))["kind"] == "mute"
    await staff.send({"type": "chat.ban", "seq": 2})
    assert (await staff.wait_for("chat.restricted"))["kind"] == "ban"

    assert shown["message"]["seq"] == 1 and shown["message"]["body"] == "first"
    sales_id = w["sales"].pk
    assert await _audit() == [
        ("chat.hide", sales_id),
        ("chat.unhide", sales_id),
        ("chat.slow_mode", sales_id),
        ("chat.mute", sales_id),
        ("chat.ban", sales_id),
    ]
    for socket in (buyer, other, staff):
        await socket.close()


async def test_queue_decision_hides_for_every_open_room_at_once_and_notifies_the_author():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    viewer = await Socket(w["session"]).open()
    await _chat_send(buyer, "queue-0001", "spam link")

    @sync_to_async
    def report_then_ban() -> int:
        from livestream import chat

        chat.chat_message_report(user=make_buyer(), session_id=w["session"], seq=1, reason="x")
        client = Client()
        client.force_login(make_organiser())
        message = ChatMessage.objects.get(session_id=w["session"], seq=1)
        response = client.post(
            reverse("org_live:report_decide", args=[message.pk]),
            {"action": "ban", "hide": "on", "reason": "Spam"},
        )
        return response.status_code

    assert await report_then_ban() == 302
    for socket in (buyer, viewer):
        assert await socket.wait_for("chat.hidden") == {
            "type": "chat.hidden",
            "session": w["session"],
            "seq": 1,
        }
    told = await buyer.wait_for("chat.restriction")
    assert (told["kind"], told["until"]) == ("ban", None)
    assert await sync_to_async(lambda: ChatRestriction.objects.get().kind)() == "ban"
    assert [action for action, _actor in await _audit()] == ["chat.ban", "chat.hide"]
    await buyer.close()
    await viewer.close()
