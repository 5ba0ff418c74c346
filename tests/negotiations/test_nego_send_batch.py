"""Sends stored in batches (``services.text_store_many``, ``negotiations.send_batch``): every
message of a batch gets its own answer, a refusal or a failing item costs the others
nothing, rooms shared by two batches never deadlock, the rate limit counts each message of
a batch, and sends that arrive while a batch is stored go into the next one."""

from __future__ import annotations

import asyncio

import pytest
from django.db import DatabaseError, DataError

from fair.exceptions import ApplicationError, NotFound
from negotiations import send_batch, services
from negotiations.models import Message
from negotiations.services import messages as message_services
from negotiations.services import rate_limits
from negotiations.services.messages import TextSent, TextToStore
from tests.exhibitors.factories import owner_of
from tests.factories import make_buyer
from tests.negotiations.nego_factories import client_id, make_room
from tests.negotiations.test_nego_concurrency import (  # noqa: F401 (autouse fixture)
    reference_data,
    run_together,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batch_sizes(monkeypatch) -> list[int]:
    """The size of every batch the batchers store, in order."""
    sizes: list[int] = []
    real = send_batch._store_many

    async def counted(items):
        sizes.append(len(items))
        return await real(items)

    monkeypatch.setattr(send_batch, "_store_many", counted)
    return sizes


@pytest.fixture(autouse=True)
def _close_thread_connections():
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    # The batcher's database calls ran on asgiref's one thread: close its connection.
    asyncio.run(sync_to_async(connections.close_all)())


def item(user, room, body: str, cid: str | None = None) -> TextToStore:
    return TextToStore(user, room.pk, cid or client_id(), body)


def bodies(room) -> list[tuple[int, str]]:
    return list(Message.objects.filter(negotiation=room).order_by("seq").values_list("seq", "body"))


def test_batch_stores_each_message_in_order_with_its_own_answer():
    first, second = make_room(), make_room()
    staff = owner_of(second.exhibitor)

    results = services.text_store_many(
        [
            item(second.buyer, second, "B1"),
            item(first.buyer, first, "A1"),
            item(staff, second, "B2"),
            item(first.buyer, first, "A2"),
        ]
    )

    assert [type(result) for result in results] == [TextSent] * 4
    assert [(r.negotiation_id, r.seq, r.side, r.created) for r in results] == [
        (second.pk, 2, "buyer", True),
        (first.pk, 2, "buyer", True),
        (second.pk, 3, "exhibitor", True),
        (first.pk, 3, "buyer", True),
    ]
    # make_room stores the opening message as seq 1.
    assert bodies(first)[1:] == [(2, "A1"), (3, "A2")]
    assert bodies(second)[1:] == [(2, "B1"), (3, "B2")]
    second.refresh_from_db()
    assert (second.last_seq, second.last_speaker) == (3, "exhibitor")


def test_refusals_in_a_batch_are_answered_and_the_rest_stored():
    room, closed = make_room(), make_room()
    outsider = make_buyer()
    services.negotiation_close(user=closed.buyer, negotiation_id=closed.pk)
    cid = client_id()
    services.text_store(user=room.buyer, negotiation_id=room.pk, client_id=cid, body="Again")

    results = services.text_store_many(
        [
            item(outsider, room, "Not mine"),
            item(closed.buyer, closed, "Closed room"),
            item(room.buyer, room, "Again", cid),  # a retry of a stored message
            item(room.buyer, room, "New"),
        ]
    )

    assert isinstance(results[0], NotFound)
    assert isinstance(results[1], ApplicationError)
    assert results[1].code == "closed"
    assert (results[2].seq, results[2].created) == (2, False)
    assert (results[3].seq, results[3].created) == (3, True)
    assert bodies(room)[1:] == [(2, "Again"), (3, "New")]
    assert Message.objects.filter(body__in=["Not mine", "Closed room"]).count() == 0


def test_a_database_error_rolls_the_batch_back_and_the_others_are_stored_alone():
    first, second = make_room(), make_room()
    missing = TextToStore(first.buyer, 2**63, client_id(), "Out of range")  # bigint overflow

    results = services.text_store_many(
        [item(first.buyer, first, "Kept A"), missing, item(second.buyer, second, "Kept B")]
    )

    assert isinstance(results[1], DataError)
    assert [(r.seq, r.created) for r in (results[0], results[2])] == [(2, True), (2, True)]
    # Stored once each, with the numbers the rolled-back attempt had also given them.
    assert bodies(first)[1:] == [(2, "Kept A")]
    assert bodies(second)[1:] == [(2, "Kept B")]


def test_two_batches_sharing_rooms_in_opposite_order_never_deadlock(monkeypatch):
    failures: list[Exception] = []
    real = message_services._store_one

    def watched(one):
        try:
            return real(one)
        except DatabaseError as error:  # a deadlock would be one (and then retried alone)
            failures.append(error)
            raise

    monkeypatch.setattr(message_services, "_store_one", watched)
    rooms = [make_room() for _ in range(3)]
    staff = [owner_of(room.exhibitor) for room in rooms]
    rounds = 8

    def buyers_batch(number: int):
        return lambda: services.text_store_many(
            [item(room.buyer, room, f"buyer {number}") for room in rooms]
        )

    def staff_batch(number: int):
        return lambda: services.text_store_many(
            [item(staff[i], rooms[i], f"staff {number}") for i in reversed(range(len(rooms)))]
        )

    for number in range(rounds):
        results = run_together(buyers_batch(number), staff_batch(number))
        for result in results:
            assert not isinstance(result, Exception), result
            assert all(isinstance(r, TextSent) and r.created for r in result), result

    assert failures == []
    for room in rooms:
        seqs = [seq for seq, _body in bodies(room)]
        assert seqs == list(range(1, 2 * rounds + 2))  # no gap, no repeat


def test_each_message_of_a_batch_counts_against_the_senders_limit(settings):
    settings.NEGO_MESSAGES_PER_MINUTE = 2
    room = make_room()

    async def scenario():
        windows, _sockets = await rate_limits.acount_many([room.buyer.pk] * 3)
        return [w.count for w in windows], [w.exceeded for w in windows]

    counts, exceeded = asyncio.run(scenario())
    assert (counts, exceeded) == ([1, 2, 3], [False, False, True])

    async def refund():
        windows, _sockets = await rate_limits.acount_many([room.buyer.pk])
        await rate_limits.arefund_many(windows + windows)
        return (await rate_limits.acount_many([room.buyer.pk]))[0][0].count

    assert asyncio.run(refund()) == 3  # 3, then 4, given back twice (2), counted again


def test_batcher_gathers_concurrent_sends_and_answers_each_sender(settings, batch_sizes):
    settings.NEGO_MESSAGES_PER_MINUTE = 3
    room = make_room()
    outsider = make_buyer()

    async def scenario():
        batcher = send_batch.SendBatcher()
        calls = [batcher.store(room.buyer, room.pk, client_id(), f"M{n}") for n in range(4)]
        calls.append(batcher.store(outsider, room.pk, client_id(), "Not mine"))
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(scenario())

    assert batch_sizes == [5]  # all five arrived before the first batch was taken
    assert [(r.seq, r.body) for r, _sockets in results[:3]] == [(2, "M0"), (3, "M1"), (4, "M2")]
    assert isinstance(results[3], ApplicationError)
    assert results[3].code == "rate_limited"
    assert isinstance(results[4], NotFound)
    assert bodies(room)[1:] == [(2, "M0"), (3, "M1"), (4, "M2")]

    async def counts():
        return (await rate_limits.acount_many([room.buyer.pk, outsider.pk]))[0]

    # The refused sends were given back: the next one of each is the 4th and the 1st.
    assert [w.count for w in asyncio.run(counts())] == [4, 1]


def test_batches_are_at_most_the_configured_size(settings, batch_sizes):
    settings.NEGO_SEND_BATCH_MAX = 2
    room = make_room()

    async def scenario():
        batcher = send_batch.SendBatcher()
        return await asyncio.gather(
            *(batcher.store(room.buyer, room.pk, client_id(), f"M{n}") for n in range(5))
        )

    results = asyncio.run(scenario())

    assert sorted(batch_sizes) == [1, 2, 2]
    assert sorted(r.seq for r, _sockets in results) == [2, 3, 4, 5, 6]
    assert bodies(room)[1:] == sorted((r.seq, r.body) for r, _sockets in results)


def test_a_send_failing_on_the_database_alone_gives_its_count_back(settings):
    room = make_room()

    async def scenario():
        batcher = send_batch.SendBatcher()
        try:
            await batcher.store(room.buyer, 2**63, client_id(), "Out of range")  # bigint overflow
        except DataError as error:
            failed = error
        windows, _sockets = await rate_limits.acount_many([room.buyer.pk])
        return failed, windows[0].count

    failed, count = asyncio.run(scenario())

    assert isinstance(failed, DataError)
    assert count == 1  # the failed send was given back: this is the first that counts


def test_a_room_locked_elsewhere_fails_its_send_after_the_lock_timeout_only(monkeypatch):
    import threading

    from django.db import connection, connections

    from negotiations.models import Negotiation

    monkeypatch.setattr(message_services, "LOCK_TIMEOUT_MS", 300)
    locked, free = make_room(), make_room()
    holding, release = threading.Event(), threading.Event()

    def hold_the_room():
        from django.db import transaction

        try:
            with transaction.atomic():
                Negotiation.objects.select_for_update().get(pk=locked.pk)
                holding.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_room)
    holder.start()
    try:
        assert holding.wait(timeout=5)
        connection.close()  # a new connection: prepared (and its lock timeout set) afresh
        results = services.text_store_many(
            [item(locked.buyer, locked, "Waits"), item(free.buyer, free, "Goes through")]
        )
    finally:
        release.set()
        holder.join(timeout=10)

    assert isinstance(results[0], DatabaseError)
    assert "lock timeout" in str(results[0])
    assert (results[1].seq, results[1].created) == (2, True)
    assert bodies(locked)[1:] == []
    assert bodies(free)[1:] == [(2, "Goes through")]
