"""The stream-room chat across real server processes (issue 5, "Several processes" and
"never lose, never duplicate").

Two real Daphne processes (``python -m daphne fair.asgi:application``) on the test database
and one Redis, driven by the ``websockets`` client library the way a browser drives them
(Origin header, session cookie, batches unpacked, replies awaited by ``client_id``):

* they behave as one: a viewer on one process sees, in order and with the same ``seq``, a
  message posted through the other; presence counts sockets of both; a moderator's hide on
  one removes the message for a viewer on the other;
* a Redis restart in the middle of 2,000 messages loses none that were acked: senders retry
  the same ``client_id`` after ``unavailable`` or a lost socket, receivers resume, and in
  the end every receiver and the database hold exactly the acked messages;
* the same ``client_id`` sent through both processes at once is stored once, with one
  ``seq`` in every ack.

The servers run on the committed test database (``transaction=True``, as the browser tests
do); ``tests/livestream/chatprocs.py`` starts them and holds the client. The restart test
has a ``redis-server`` of its own: the shared Redis on 6379 is never restarted."""

from __future__ import annotations

import asyncio
import importlib
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from fair.models import User
from livestream import services
from livestream.models import ChatMessage, LiveSession
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.e2e.liveserver import ServerError
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer
from tests.livestream.chatprocs import (
    DaphnePair,
    Receiver,
    RedisServer,
    RoomSocket,
    SendStats,
    send_messages,
    server_env,
)

pytestmark = pytest.mark.django_db(transaction=True)

#: The restart run: this many messages, from users sending five each (the real rate limit,
#: five per ten seconds, is never reached), through this many senders at a time.
RUN_MESSAGES = 2000
PER_USER = 5
SENDER_LANES = 20


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    """Rows data migrations load (category tree, organisers group): ``transactional_db``
    empties every table after each test, so they are loaded again (idempotent)."""
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


def _start(pair: DaphnePair) -> None:
    try:
        pair.start()
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def daphne_pair(django_db_setup, tmp_path_factory) -> Iterator[DaphnePair]:
    """Two Daphne processes on the shared Redis, under this run's key and channel prefix,
    with the viewer-count timer at one second (``LIVE_VIEWERS_INTERVAL``)."""
    if not settings.REDIS_URL:
        pytest.fail("These tests need REDIS_URL (make test sets it).", pytrace=False)
    pair = DaphnePair(
        env=server_env(
            redis_url=settings.REDIS_URL,
            key_prefix=settings.REDIS_KEY_PREFIX,
            LIVE_VIEWERS_INTERVAL="1",
        ),
        log_dir=tmp_path_factory.mktemp("chatprocs"),
    )
    _start(pair)
    try:
        yield pair
    finally:
        pair.stop()


# --- Helpers ----------------------------------------------------------------------------------


def _public_session() -> LiveSession:
    exhibitor = make_exhibitor()
    start = timezone.now() - timedelta(minutes=5)
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )


def _cookie(user: User) -> str:
    client = Client()  # one per user: logging another user in on a client flushes its session
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _senders_signed_in(count: int) -> list[str]:
    """``count`` new users, each signed in: their session cookies. What ``force_login``
    stores (user id, backend, password hash digest), written in two queries instead of a
    login per user (400 logins take ten seconds here); the servers check these sessions
    with the real authentication middleware like any other."""
    engine = importlib.import_module(settings.SESSION_ENGINE)
    run = uuid.uuid4().hex[:8]
    users = User.objects.bulk_create(
        User(
            email=f"sender{index}-{run}@example.test",
            full_name=f"Sender {index}",
            password=make_password(None),
        )
        for index in range(count)
    )
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = engine.SessionStore()
    sessions = [
        store.get_model_class()(
            session_key=secrets.token_hex(16),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expire,
        )
        for user in users
    ]
    store.get_model_class().objects.bulk_create(sessions)
    return [f"{settings.SESSION_COOKIE_NAME}={session.session_key}" for session in sessions]


def _client_id() -> str:
    return str(uuid.uuid4())


def _chat_events(events: list[dict]) -> list[dict]:
    return [event for event in events if event["type"].startswith("chat.")]


# --- Two processes, one room ------------------------------------------------------------------


def test_chat_two_processes_one_redis_behave_as_one(daphne_pair):
    a, b = (server.url for server in daphne_pair.servers)
    session = _public_session()
    sid = session.pk
    moderator_cookie = _cookie(owner_of(session.exhibitor))
    buyer_cookie = _cookie(make_buyer(full_name="Khalid Al-Saud"))
    client_ids = [_client_id() for _ in range(3)]
    bodies = ["Can it ship in Q3?", "Second <b>message</b>", "Third"]

    async def scenario() -> dict:
        out: dict = {}
        rooms, greetings = [], []
        for url, cookie in ((a, ""), (b, ""), (b, buyer_cookie), (a, moderator_cookie)):
            rooms.append(await RoomSocket.open(url, sid, cookie=cookie))
            greetings.append(await rooms[-1].greeting())  # sent once the socket is counted
        viewer_a, viewer_b, buyer_b, moderator_a = rooms
        out["greeting_counts"] = [greeting["viewers"]["count"] for greeting in greetings]
        out["greeting_roles"] = [greeting["room.joined"]["chat"] for greeting in greetings]
        # The timer's count (whichever process won the tick) reaches the viewer on A.
        out["viewers_a"] = (
            await viewer_a.until(lambda e: e["type"] == "viewers" and e["count"] == 4, 20)
        )[-1]

        out["acks"] = []
        for client_id, body in zip(client_ids, bodies, strict=True):
            await buyer_b.send({"type": "chat.send", "client_id": client_id, "body": body})
            out["acks"].append(await buyer_b.reply(client_id))
        is_third = lambda e: e["type"] == "chat.message" and e["seq"] == 3  # noqa: E731
        out["messages_a"] = _chat_events(await viewer_a.until(is_third))
        out["messages_b"] = _chat_events(await viewer_b.until(is_third))

        await buyer_b.send({"type": "chat.hide", "seq": 2})
        out["buyer_hide"] = (await buyer_b.until(lambda e: e["type"] == "error"))[-1]
        await moderator_a.send({"type": "chat.hide", "seq": 2})
        is_hidden = lambda e: e["type"] == "chat.hidden"  # noqa: E731
        out["after_hide_b"] = _chat_events(await viewer_b.until(is_hidden))
        out["after_hide_a"] = _chat_events(await viewer_a.until(is_hidden))
        late_b = await RoomSocket.open(b, sid)
        out["late_history"] = (await late_b.greeting())["chat.history"]["messages"]

        for room in (viewer_b, buyer_b, late_b):  # every socket on B goes
            await room.close()
        out["viewers_a_after"] = (
            await viewer_a.until(lambda e: e["type"] == "viewers" and e["count"] == 2, 20)
        )[-1]
        await viewer_a.close()
        await moderator_a.close()
        return out

    out = asyncio.run(scenario())

    # Presence is shared: each greeting counted the sockets of both processes so far.
    assert out["greeting_counts"] == [1, 2, 3, 4]
    assert [role["is_moderator"] for role in out["greeting_roles"]] == [False, False, False, True]
    assert out["viewers_a"] == {"type": "viewers", "session": sid, "count": 4, "peak": 4}
    # Posted through B, seen on A in order, with the seq of the ack, byte-for-byte as on B.
    assert [(ack["type"], ack["seq"], ack["client_id"]) for ack in out["acks"]] == [
        ("chat.ack", 1, client_ids[0]),
        ("chat.ack", 2, client_ids[1]),
        ("chat.ack", 3, client_ids[2]),
    ]
    assert out["messages_a"] == out["messages_b"]
    assert [
        (m["seq"], m["client_id"], m["body"], m["author"]["name"], m["sent_at"])
        for m in out["messages_a"]
    ] == [
        (ack["seq"], ack["client_id"], body, "Khalid A.", ack["sent_at"])
        for ack, body in zip(out["acks"], bodies, strict=True)
    ]
    # A buyer cannot hide; the moderator on A can, and it goes from B's viewer at once.
    assert out["buyer_hide"]["code"] == "forbidden"
    assert out["after_hide_b"] == [{"type": "chat.hidden", "session": sid, "seq": 2}]
    assert out["after_hide_a"] == [{"type": "chat.hidden", "session": sid, "seq": 2}]
    assert [m["seq"] for m in out["late_history"]] == [1, 2, 3]
    assert out["late_history"][1] == {
        "type": "chat.message",
        "session": sid,
        "seq": 2,
        "hidden": True,
    }
    assert "body" in out["late_history"][0] and "body" in out["late_history"][2]
    # B's sockets leaving is seen in the count on A: only A's two remain.
    assert out["viewers_a_after"] == {"type": "viewers", "session": sid, "count": 2, "peak": 5}
    stored = list(
        ChatMessage.objects.filter(session_id=sid).values_list("seq", "client_id", "hidden_at")
    )
    assert [(seq, client_id) for seq, client_id, _hidden in stored] == list(
        zip([1, 2, 3], client_ids, strict=True)
    )
    assert [hidden is not None for _seq, _id, hidden in stored] == [False, True, False]
    daphne_pair.check_alive()


# --- Idempotency across processes -------------------------------------------------------------


def test_chat_same_client_id_through_both_processes_at_once_is_stored_once(daphne_pair):
    a, b = (server.url for server in daphne_pair.servers)
    session = _public_session()
    sid = session.pk
    buyer = make_buyer()
    cookie = _cookie(buyer)
    other = make_buyer()
    other_cookie = _cookie(other)
    client_ids = [_client_id() for _ in range(4)]
    sentinel = _client_id()

    async def scenario() -> dict:
        observers = [await RoomSocket.open(a, sid), await RoomSocket.open(b, sid)]
        for observer in observers:
            await observer.greeting()
        # Four sockets of one user, two on each process (the limit per user is five), and
        # four messages: the user stays below the rate limit (five per ten seconds).
        sockets = [await RoomSocket.open(url, sid, cookie=cookie) for url in (a, b, a, b)]
        for room in sockets:
            await room.greeting()
        replies = []
        for index, client_id in enumerate(client_ids):
            frame = {"type": "chat.send", "client_id": client_id, "body": f"Once {index}"}
            await asyncio.gather(*(room.send(frame) for room in sockets))
            replies.append(await asyncio.gather(*(room.reply(client_id) for room in sockets)))
        last = await RoomSocket.open(b, sid, cookie=other_cookie)
        await last.greeting()
        await last.send({"type": "chat.send", "client_id": sentinel, "body": "After"})
        sentinel_ack = await last.reply(sentinel)
        is_last = lambda e: e["type"] == "chat.message" and e["client_id"] == sentinel  # noqa: E731
        seen = [_chat_events(await observer.until(is_last)) for observer in observers]
        for room in (*observers, *sockets, last):
            await room.close()
        return {"replies": replies, "sentinel": sentinel_ack, "seen": seen}

    out = asyncio.run(scenario())

    for index, (client_id, replies) in enumerate(zip(client_ids, out["replies"], strict=True)):
        first = replies[0]
        assert first["type"] == "chat.ack", replies
        assert (first["seq"], first["client_id"]) == (index + 1, client_id)
        assert replies == [first] * 4  # the same ack through A and B, sent_at included
    assert out["sentinel"]["seq"] == 5
    for seen in out["seen"]:  # each message was broadcast once, in order
        assert [(m["seq"], m["client_id"]) for m in seen] == [
            *((index + 1, client_id) for index, client_id in enumerate(client_ids)),
            (5, sentinel),
        ]
    assert list(
        ChatMessage.objects.filter(session_id=sid).values_list("seq", "client_id", "author_id")
    ) == [
        *((index + 1, client_id, buyer.pk) for index, client_id in enumerate(client_ids)),
        (5, sentinel, other.pk),
    ]
    # The losers' counter increments were rolled back: no number was burnt.
    assert LiveSession.objects.get(pk=sid).chat_last_seq == 5
    daphne_pair.check_alive()


# --- A Redis restart in the middle of a run ---------------------------------------------------


@pytest.fixture
def restart_stack(tmp_path) -> Iterator[tuple[RedisServer, DaphnePair]]:
    """A redis-server of this test's own, and two Daphne processes on it."""
    redis = RedisServer(workdir=tmp_path)
    try:
        redis.start()
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)
    pair = DaphnePair(
        env=server_env(
            redis_url=redis.url,
            key_prefix=f"{settings.REDIS_KEY_PREFIX}-restart",
            LIVE_VIEWERS_INTERVAL="1",
        ),
        log_dir=tmp_path,
    )
    try:
        _start(pair)
        yield redis, pair
    finally:
        pair.stop()
        redis.stop()


def test_chat_redis_restart_mid_run_loses_no_acked_message(restart_stack):
    redis, pair = restart_stack
    a, b = (server.url for server in pair.servers)
    session = _public_session()
    sid = session.pk
    plans = [
        ((a, b)[index % 2], cookie, [(_client_id(), f"m{index}.{n}") for n in range(PER_USER)])
        for index, cookie in enumerate(_senders_signed_in(RUN_MESSAGES // PER_USER))
    ]
    receiver_cookies = [_cookie(make_buyer()), _cookie(make_buyer())]
    stats = SendStats()
    restart: dict = {}

    async def restart_midway(run: asyncio.Task, receivers: list[Receiver]) -> None:
        while len(stats.acks) < RUN_MESSAGES // 2 and not run.done():
            await asyncio.sleep(0.01)
        restart["acked_before"] = len(stats.acks)
        # In this thread, not a worker's: a child dies with the thread that started it.
        redis.kill()
        for receiver in (receivers[0], receivers[3]):  # these lose their socket too
            receiver.drop()
        restart["down_at"] = time.monotonic()
        await asyncio.sleep(1.0)
        redis.start()
        restart["up_at"] = time.monotonic()

    async def lane(plans_of_lane) -> None:
        for url, cookie, messages in plans_of_lane:
            await send_messages(url, sid, cookie=cookie, messages=messages, stats=stats)

    async def scenario() -> list[Receiver]:
        receivers = [
            Receiver(a, sid, name="anonymous on A"),
            Receiver(b, sid, name="anonymous on B"),
            Receiver(a, sid, cookie=receiver_cookies[0], name="buyer on A"),
            Receiver(b, sid, cookie=receiver_cookies[1], name="buyer on B"),
        ]
        watching = [asyncio.create_task(receiver.run()) for receiver in receivers]
        async with asyncio.timeout(30):
            for receiver in receivers:
                await receiver.joined.wait()
        shuffled = random.sample(plans, len(plans))
        run = asyncio.ensure_future(
            asyncio.gather(*(lane(shuffled[n::SENDER_LANES]) for n in range(SENDER_LANES)))
        )
        restarter = asyncio.create_task(restart_midway(run, receivers))
        async with asyncio.timeout(120):
            await run
            await restarter
        last = max((seq for seq, _sent_at in stats.acks.values()), default=0)
        for receiver in receivers:
            receiver.finish(last)
        async with asyncio.timeout(60):
            for receiver in receivers:
                await receiver.done.wait()
        for task in watching:
            task.cancel()
        await asyncio.gather(*watching, return_exceptions=True)
        return receivers

    receivers = asyncio.run(scenario())

    assert stats.problems == []
    assert len(stats.acks) == RUN_MESSAGES, pair.log_tails()
    # The restart really hit the run: some sends were refused or their sockets lost.
    assert redis.starts == 2
    assert restart["acked_before"] >= RUN_MESSAGES // 2
    assert stats.errors.get("unavailable", 0) + stats.closed > 0, (stats.errors, stats.closed)
    acked = {client_id: seq for client_id, (seq, _sent_at) in stats.acks.items()}
    assert sorted(acked.values()) == list(range(1, RUN_MESSAGES + 1))
    # The database holds exactly the acked messages: one per client_id, numbered as acked.
    stored = dict(ChatMessage.objects.filter(session_id=sid).values_list("client_id", "seq"))
    assert ChatMessage.objects.filter(session_id=sid).count() == RUN_MESSAGES
    assert stored == acked
    assert LiveSession.objects.get(pk=sid).chat_last_seq == RUN_MESSAGES
    by_seq = {seq: client_id for client_id, seq in acked.items()}
    for receiver in receivers:
        assert receiver.problems == []
        # Every acked message exactly once, in order (held by seq, duplicates dropped).
        assert sorted(receiver.held) == list(range(1, RUN_MESSAGES + 1)), receiver.name
        assert receiver.held == by_seq, receiver.name
        assert receiver.contiguous == RUN_MESSAGES
        assert receiver.resumes >= 1  # chat.resume at the end, at least
        # Live delivery came back after the restart (the fan-out re-subscribed).
        assert any(at > restart["up_at"] for at, _seq in receiver.live), receiver.name
    # The two that lost their socket came back with ?after= (retrying while Redis was down);
    # the others kept theirs through the restart.
    assert [receiver.after_connects > 0 for receiver in receivers] == [True, False, False, True]
    assert [receiver.reconnects for receiver in receivers][1:3] == [0, 0]
    pair.check_alive()
