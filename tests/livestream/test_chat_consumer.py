"""The chat over the stream room's socket (/ws/live/<id>/) on the real Redis channel layer
and PostgreSQL: send and ack, broadcast to the room, idempotent retries, resume after a
reconnect, rate limit and slow mode, moderation arriving everywhere, restrictions with clear
errors, reactions merged once a second, per-user socket cap, batching."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from fair.asgi import application
from livestream import chat, services
from livestream.consumers import CLOSE_TOO_MANY
from livestream.fanout import RoomFanout, _Room
from livestream.models import ChatMessage, ChatReport, LiveSession
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer

pytestmark = pytest.mark.django_db(transaction=True)

SAME_ORIGIN = (b"origin", b"http://testserver")


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


# --- Helpers ----------------------------------------------------------------------------------


def _world() -> dict:
    exhibitor = make_exhibitor()
    start = timezone.now() - timedelta(minutes=5)
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )
    return {
        "session": session.pk,
        "exhibitor": exhibitor,
        "owner": owner_of(exhibitor),
        "sales": add_member(exhibitor, "sales"),
        "buyer": make_buyer(full_name="Anne Buyer"),
        "buyer2": make_buyer(full_name="Omar Haddad"),
    }


world = sync_to_async(_world)


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


cookie = sync_to_async(_cookie)


class Socket:
    """A room socket that unpacks batches and keeps frames it was not asked for yet."""

    def __init__(self, session_id: int, *headers, query: str = "") -> None:
        path = f"/ws/live/{session_id}/" + (f"?{query}" if query else "")
        self.comm = WebsocketCommunicator(application, path, headers=[SAME_ORIGIN, *headers])
        self.buffer: list[dict] = []
        self.greeting: list[dict] = []

    async def open(self) -> Socket:
        connected, code = await self.comm.connect()
        assert connected is True, code
        # Broadcasts may overtake the history (the room's broadcasts reach the socket from
        # the moment it joins, before the history is read): clients order them by seq. They
        # are kept for the test after the greeting.
        self.greeting, early = [], []
        while len(self.greeting) < 3:
            frame = await self.next()
            if frame["type"] == "chat.message" and len(self.greeting) == 2:
                early.append(frame)
            else:
                self.greeting.append(frame)
        assert [f["type"] for f in self.greeting] == ["room.joined", "viewers", "chat.history"]
        self.buffer[:0] = early
        return self

    @property
    def history(self) -> dict:
        return self.greeting[2]

    async def send(self, payload: dict) -> None:
        await self.comm.send_json_to(payload)

    async def next(self, timeout: float = 3.0) -> dict:
        if self.buffer:
            return self.buffer.pop(0)
        frame = await self.comm.receive_json_from(timeout=timeout)
        if frame["type"] == "batch":
            self.buffer.extend(frame["events"])
            return self.buffer.pop(0)
        return frame

    async def wait_for(self, kind: str, timeout: float = 3.0, **match) -> dict:
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                frame = await self.next(timeout=max(0.05, deadline - time.monotonic()))
                if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                    return frame
                skipped.append(frame)
        finally:
            self.buffer[:0] = [f for f in skipped if f["type"] not in ("viewers",)]

    async def nothing_of(self, kind: str, within: float = 0.4) -> bool:
        """No frame of ``kind`` arrives within ``within`` seconds (``receive_nothing`` does
        not cancel the application the way a receive timeout does)."""
        deadline = time.monotonic() + within
        kept = []
        try:
            for frame in list(self.buffer):
                if frame["type"] == kind:
                    return False
            while time.monotonic() < deadline:
                if await self.comm.receive_nothing(timeout=max(0.01, deadline - time.monotonic())):
                    return True
                frame = await self.comm.receive_json_from()
                frames = frame["events"] if frame["type"] == "batch" else [frame]
                for one in frames:
                    if one["type"] == kind:
                        return False
                    kept.append(one)
            return True
        finally:
            self.buffer.extend(kept)

    async def close(self) -> None:
        await self.comm.disconnect()


async def _chat_send(socket: Socket, client_id: str, body: str, **extra) -> dict:
    """Send a message; return its ack or error (other frames stay queued on the socket)."""
    await socket.send({"type": "chat.send", "client_id": client_id, "body": body, **extra})
    deadline = time.monotonic() + 5
    skipped = []
    try:
        while True:
            frame = await socket.next(timeout=max(0.05, deadline - time.monotonic()))
            if frame.get("client_id") == client_id and frame["type"] in ("chat.ack", "error"):
                return frame
            skipped.append(frame)
    finally:
        socket.buffer[:0] = skipped


# --- Sending, acks, broadcast -----------------------------------------------------------------


async def test_buyer_message_is_acked_with_its_number_and_reaches_an_anonymous_viewer():
    w = await world()
    viewer = await Socket(w["session"]).open()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()

    ack = await _chat_send(buyer, "c-0000001", "Great product, can it ship in Q3?", question=True)
    seen = await viewer.wait_for("chat.message")

    assert ack["type"] == "chat.ack"
    assert (ack["seq"], ack["session"]) == (1, w["session"])
    assert seen == {
        "type": "chat.message",
        "session": w["session"],
        "seq": 1,
        "client_id": "c-0000001",
        "author": {"name": "Anne B.", "company": "", "badge": ""},
        "body": "Great product, can it ship in Q3?",
        "question": True,
        "answered": False,
        "sent_at": ack["sent_at"],
    }
    assert buyer.greeting[0]["chat"]["can_post"] is True
    await viewer.close()
    await buyer.close()


async def test_xss_payload_is_stored_and_delivered_as_plain_text():
    w = await world()
    viewer = await Socket(w["session"]).open()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'

    await _chat_send(buyer, "xss-000001", payload)
    seen = await viewer.wait_for("chat.message")

    assert seen["body"] == payload  # text, escaped by whoever renders it (textContent)
    assert await sync_to_async(lambda: ChatMessage.objects.get().body)() == payload
    await viewer.close()
    await buyer.close()


async def test_staff_message_carries_the_exhibitor_badge_and_company():
    w = await world()
    staff = await Socket(w["session"], await cookie(w["sales"])).open()

    await _chat_send(staff, "staff-00001", "Yes, Q3 is fine.")
    seen = await staff.wait_for("chat.message")

    assert seen["author"]["badge"] == "exhibitor"
    assert seen["author"]["company"] == w["exhibitor"].display_name
    await staff.close()


async def test_anonymous_cannot_post_and_is_told_to_sign_in():
    w = await world()
    viewer = await Socket(w["session"]).open()

    await viewer.send({"type": "chat.send", "client_id": "anon-00001", "body": "hi"})
    error = await viewer.wait_for("error")

    assert error["code"] == "sign_in_required"
    assert error["client_id"] == "anon-00001"
    assert await sync_to_async(ChatMessage.objects.count)() == 0
    await viewer.close()


async def test_retry_with_the_same_client_id_gets_the_same_ack_and_one_broadcast():
    w = await world()
    viewer = await Socket(w["session"]).open()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()

    first = await _chat_send(buyer, "retry-00001", "Once")
    again = await _chat_send(buyer, "retry-00001", "Once")

    assert (again["seq"], again["sent_at"]) == (first["seq"], first["sent_at"])
    assert (await viewer.wait_for("chat.message"))["seq"] == 1
    assert await viewer.nothing_of("chat.message")
    assert await sync_to_async(ChatMessage.objects.count)() == 1
    await viewer.close()
    await buyer.close()


async def test_same_client_id_sent_five_times_at_once_gives_one_message_and_five_equal_acks():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()

    for _ in range(5):
        await buyer.send({"type": "chat.send", "client_id": "burst-00001", "body": "Hi"})
    acks = [await buyer.wait_for("chat.ack") for _ in range(5)]

    assert {a["seq"] for a in acks} == {1}
    assert await sync_to_async(ChatMessage.objects.count)() == 1
    await buyer.close()


async def test_invalid_message_gets_invalid_with_a_readable_detail():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()

    too_long = await _chat_send(buyer, "long-00001", "x" * 1001)
    empty = await _chat_send(buyer, "empty-0001", "   ")

    assert too_long["code"] == "invalid"
    assert too_long["detail"] == "A message can be at most 1000 characters (this one has 1001)."
    assert empty["detail"] == "Write a message first."
    await buyer.close()


# --- Resume -----------------------------------------------------------------------------------


async def test_reconnect_with_after_gets_exactly_the_missed_messages_in_order():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    viewer = await Socket(w["session"]).open()
    await _chat_send(buyer, "resume-0001", "one")
    await _chat_send(buyer, "resume-0002", "two")
    assert [(await viewer.wait_for("chat.message"))["seq"] for _ in range(2)] == [1, 2]
    await viewer.close()  # the viewer drops out...

    for n in range(3, 6):
        await _chat_send(buyer, f"resume-000{n}", f"missed {n}")
    back = await Socket(w["session"], query="after=2").open()

    history = back.history
    assert history["resumed"] is True
    assert history["complete"] is True
    assert [(m["seq"], m["body"]) for m in history["messages"]] == [
        (3, "missed 3"),
        (4, "missed 4"),
        (5, "missed 5"),
    ]
    other = await Socket(w["session"], await cookie(w["buyer2"])).open()
    assert (await _chat_send(other, "resume-0006", "live again"))["seq"] == 6  # (5 per 10 s each)
    # (Broadcasts of 3-5 still in flight may arrive too: clients drop them by seq.)
    assert (await back.wait_for("chat.message", seq=6))["body"] == "live again"
    for socket in (back, buyer, other):
        await socket.close()


async def test_join_without_after_gets_the_last_fifty_and_resume_action_fills_a_gap():
    w = await world()
    identity = await sync_to_async(chat.chat_identity)(
        user=w["buyer"], exhibitor_id=w["exhibitor"].pk, is_staff=False
    )
    for n in range(1, 61):
        await sync_to_async(chat.chat_message_send)(
            session_id=w["session"], identity=identity, client_id=f"fill-{n:06d}", body=str(n)
        )
    viewer = await Socket(w["session"]).open()

    recent = viewer.history
    await viewer.send({"type": "chat.resume", "after": 57})
    resumed = await viewer.wait_for("chat.history")

    assert [m["seq"] for m in recent["messages"]] == list(range(11, 61))
    assert (recent["more_before"], recent["resumed"]) == (True, False)
    assert [m["seq"] for m in resumed["messages"]] == [58, 59, 60]
    await viewer.close()


# --- Limits -----------------------------------------------------------------------------------


async def test_sixth_message_within_ten_seconds_is_rate_limited_with_retry_after():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()

    acks = [await _chat_send(buyer, f"rate-{n:05d}", f"m{n}") for n in range(5)]
    limited = await _chat_send(buyer, "rate-00005", "m5")

    assert [a["type"] for a in acks] == ["chat.ack"] * 5
    assert limited["code"] == "rate_limited"
    assert 1 <= limited["retry_after"] <= 10
    assert await sync_to_async(ChatMessage.objects.count)() == 5
    # A retry of a message already stored is answered even when limited.
    assert (await _chat_send(buyer, "rate-00000", "m0"))["type"] == "chat.ack"
    await buyer.close()


async def test_slow_mode_spaces_a_buyers_messages_but_not_the_moderators():
    w = await world()
    staff = await Socket(w["session"], await cookie(w["owner"])).open()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()

    await staff.send({"type": "chat.slow_mode", "seconds": 30})
    assert (await buyer.wait_for("chat.slow_mode"))["seconds"] == 30
    first = await _chat_send(buyer, "slow-00001", "first")
    second = await _chat_send(buyer, "slow-00002", "second")
    staff_two = [await _chat_send(staff, f"staff-slow-{n}", "ok") for n in range(2)]

    assert first["type"] == "chat.ack"
    assert second["code"] == "slow_mode"
    assert 29 <= second["retry_after"] <= 30
    assert [a["type"] for a in staff_two] == ["chat.ack", "chat.ack"]
    await staff.close()
    await buyer.close()


async def test_a_user_may_hold_five_sockets_in_a_room_and_the_sixth_is_refused():
    w = await world()
    header = await cookie(w["buyer"])
    sockets = [await Socket(w["session"], header).open() for _ in range(5)]

    sixth = WebsocketCommunicator(
        application, f"/ws/live/{w['session']}/", headers=[SAME_ORIGIN, header]
    )
    connected, code = await sixth.connect()

    assert (connected, code) == (False, CLOSE_TOO_MANY)
    for socket in sockets:
        await socket.close()


# --- Moderation -------------------------------------------------------------------------------


async def test_hide_by_staff_disappears_for_everyone_at_once():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    other = await Socket(w["session"], await cookie(w["buyer2"])).open()
    staff = await Socket(w["session"], await cookie(w["sales"])).open()
    await _chat_send(buyer, "hide-00001", "rude words")

    await staff.send({"type": "chat.hide", "seq": 1})

    for socket in (buyer, other, staff):
        assert await socket.wait_for("chat.hidden") == {
            "type": "chat.hidden",
            "session": w["session"],
            "seq": 1,
        }
    late = await Socket(w["session"]).open()
    assert late.history["messages"] == [
        {"type": "chat.message", "session": w["session"], "seq": 1, "hidden": True}
    ]
    for socket in (buyer, other, staff, late):
        await socket.close()


async def test_buyer_moderation_attempt_is_forbidden_and_changes_nothing():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    other = await Socket(w["session"], await cookie(w["buyer2"])).open()
    await _chat_send(buyer, "keep-00001", "legit question")

    await other.send({"type": "chat.hide", "seq": 1})
    error = await other.wait_for("error")

    assert error["code"] == "forbidden"
    assert await buyer.nothing_of("chat.hidden")
    assert await sync_to_async(lambda: ChatMessage.objects.get().hidden_at)() is None
    await buyer.close()
    await other.close()


async def test_muted_buyer_is_told_at_once_and_gets_a_clear_error_when_sending():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    staff = await Socket(w["session"], await cookie(w["owner"])).open()
    await _chat_send(buyer, "mute-00001", "spam spam")

    await staff.send({"type": "chat.mute", "seq": 1, "minutes": 10})
    confirmed = await staff.wait_for("chat.restricted")
    told = await buyer.wait_for("chat.restriction")
    refused = await _chat_send(buyer, "mute-00002", "more spam")

    assert (confirmed["kind"], confirmed["name"]) == ("mute", "Anne B.")
    assert (told["kind"], told["until"]) == ("mute", confirmed["until"])
    assert refused["code"] == "muted"
    assert refused["until"] == confirmed["until"]
    assert "muted" in refused["detail"]
    await buyer.close()
    await staff.close()

    again = await Socket(w["session"], await cookie(w["buyer"])).open()
    assert again.greeting[0]["chat"]["reason"] == "muted"
    assert again.greeting[0]["chat"]["can_post"] is False
    await again.close()


async def test_banned_buyer_gets_banned_error():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    staff = await Socket(w["session"], await cookie(w["owner"])).open()
    await _chat_send(buyer, "ban-000001", "scam link")

    await staff.send({"type": "chat.ban", "seq": 1})
    await staff.wait_for("chat.restricted")
    refused = await _chat_send(buyer, "ban-000002", "again")

    assert refused["code"] == "banned"
    assert (
        refused["detail"] == "You have been banned from this exhibitor's chat. You can still watch."
    )
    await buyer.close()
    await staff.close()


async def test_pin_and_answer_reach_everyone_and_questions_list_for_staff():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    staff = await Socket(w["session"], await cookie(w["sales"])).open()
    await _chat_send(buyer, "q-00000001", "MOQ for model X?", question=True)
    await _chat_send(buyer, "q-00000002", "nice")

    await staff.send({"type": "chat.questions"})
    questions = await staff.wait_for("chat.questions")
    await staff.send({"type": "chat.pin", "seq": 1})
    pinned = await buyer.wait_for("chat.pinned")
    await staff.send({"type": "chat.answer", "seq": 1})
    answered = await buyer.wait_for("chat.answered")
    await staff.send({"type": "chat.questions"})
    after = await staff.wait_for("chat.questions")

    assert [q["seq"] for q in questions["questions"]] == [1]
    assert pinned["message"]["body"] == "MOQ for model X?"
    assert answered["seq"] == 1
    assert after["questions"] == []
    late = await Socket(w["session"]).open()
    assert late.history["pinned"]["seq"] == 1
    for socket in (buyer, staff, late):
        await socket.close()


async def test_report_is_confirmed_and_lands_in_the_queue():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    other = await Socket(w["session"], await cookie(w["buyer2"])).open()
    await _chat_send(buyer, "rep-000001", "offensive")

    await other.send({"type": "chat.report", "seq": 1, "reason": "offensive language"})
    confirmed = await other.wait_for("chat.reported")

    assert confirmed == {"type": "chat.reported", "session": w["session"], "seq": 1}
    report = await sync_to_async(lambda: ChatReport.objects.values("reason", "status").get())()
    assert report == {"reason": "offensive language", "status": "open"}
    await buyer.close()
    await other.close()


async def test_ended_session_chat_is_closed_with_a_clear_error():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    await sync_to_async(
        lambda: LiveSession.objects.filter(pk=w["session"]).update(status="ended")
    )()

    refused = await _chat_send(buyer, "closed-0001", "still there?")

    assert refused["code"] == "chat_closed"
    await buyer.close()


# --- Reactions --------------------------------------------------------------------------------


async def test_reactions_are_merged_into_one_totals_frame_a_second(settings):
    settings.LIVE_REACTIONS_INTERVAL = 0.3
    w = await world()
    a = await Socket(w["session"], await cookie(w["buyer"])).open()
    b = await Socket(w["session"], await cookie(w["buyer2"])).open()
    viewer = await Socket(w["session"]).open()

    for _ in range(7):
        await a.send({"type": "react", "kind": "like"})
    for _ in range(3):
        await b.send({"type": "react", "kind": "applause"})
    totals = await viewer.wait_for("reactions", timeout=3)

    assert totals["totals"] == {"like": 7, "applause": 3}
    assert await viewer.nothing_of("reactions", within=0.8)
    late = await Socket(w["session"]).open()
    assert late.history["reactions"] == {"like": 7, "applause": 3}
    for socket in (a, b, viewer, late):
        await socket.close()


async def test_reaction_of_unknown_kind_is_invalid_and_anonymous_must_sign_in():
    w = await world()
    buyer = await Socket(w["session"], await cookie(w["buyer"])).open()
    viewer = await Socket(w["session"]).open()

    await buyer.send({"type": "react", "kind": "boo"})
    await viewer.send({"type": "react", "kind": "like"})

    assert (await buyer.wait_for("error"))["code"] == "invalid"
    assert (await viewer.wait_for("error"))["code"] == "sign_in_required"
    await buyer.close()
    await viewer.close()


# --- Fan-out batching -------------------------------------------------------------------------


class _FakeSocket:
    def __init__(self) -> None:
        self.frames: list[str] = []

    async def base_send(self, message: dict) -> None:
        self.frames.append(message["text"])


async def test_fanout_sends_a_lone_broadcast_at_once_and_batches_a_burst(settings):
    settings.LIVE_FANOUT_TICK_MS = 100
    hub = RoomFanout()
    hub._same_loop()
    room = _Room(session_id=7, group="live.7")
    sockets = [_FakeSocket(), _FakeSocket()]
    room.sockets.update(sockets)

    hub.deliver(room, '{"type":"chat.message","seq":1}')
    await asyncio.sleep(0.01)
    first = list(sockets[0].frames)
    for seq in (2, 3, 4):
        hub.deliver(room, f'{{"type":"chat.message","seq":{seq}}}')
    await asyncio.sleep(0.02)
    before_tick = list(sockets[0].frames)
    await asyncio.sleep(0.15)

    assert first == ['{"type":"chat.message","seq":1}']
    assert before_tick == first  # the burst waits for the tick...
    assert sockets[0].frames[1:] == [  # ...and goes out as one frame, in order
        '{"type":"batch","session":7,"events":[{"type":"chat.message","seq":2},'
        '{"type":"chat.message","seq":3},{"type":"chat.message","seq":4}]}'
    ]
    assert sockets[1].frames == sockets[0].frames
