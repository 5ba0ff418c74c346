"""Races, with real threads and real PostgreSQL connections: two people accepting one quote,
a client retrying the same send five times at once, many writers in one room."""

from __future__ import annotations

import importlib
import threading
from decimal import Decimal

import pytest
from django.db import connection

from fair.exceptions import ApplicationError
from negotiations import services
from negotiations.models import Message, PurchaseIntent, Quote
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import add_member, owner_of
from tests.negotiations.nego_factories import client_id, make_quote, make_room

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    """The rows data migrations load (categories, organisers group): ``transactional_db``
    empties every table after each test, so they are loaded again (idempotent)."""
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


def run_together(*calls):
    """Run each call in its own thread (own database connection), released at the same
    moment; returns each call's result or the exception it raised, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # the outcome under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_staff_accepting_at_once_make_exactly_one_intent():
    room = make_room()
    owner = owner_of(room.exhibitor)
    sales = add_member(room.exhibitor, "sales")
    quote = make_quote(room.buyer, room, quantity=Decimal("10"), unit_price=Decimal("3"))

    results = run_together(
        lambda: services.quote_accept(user=owner, quote_id=quote.pk),
        lambda: services.quote_accept(user=sales, quote_id=quote.pk),
    )

    intents = [r for r in results if isinstance(r, PurchaseIntent)]
    refusals = [r for r in results if isinstance(r, ApplicationError)]
    assert (len(intents), len(refusals)) == (1, 1), results
    assert refusals[0].code == "quote_not_open"
    assert PurchaseIntent.objects.count() == 1
    assert PurchaseIntent.objects.get().total == Decimal("30.00")
    assert Quote.objects.get(pk=quote.pk).status == "accepted"
    assert Message.objects.filter(negotiation=room, event="quote_accepted").count() == 1


def test_accept_and_counter_at_once_leave_one_consistent_outcome():
    room = make_room()
    owner = owner_of(room.exhibitor)
    quote = make_quote(owner, room)

    results = run_together(
        lambda: services.quote_accept(user=room.buyer, quote_id=quote.pk),
        lambda: make_quote(room.buyer, room, previous=quote, unit_price=Decimal("150")),
    )

    quote.refresh_from_db()
    if isinstance(results[0], PurchaseIntent):
        assert isinstance(results[1], ApplicationError)
        assert quote.status == "accepted"
        assert Quote.objects.count() == 1
    else:
        assert isinstance(results[0], ApplicationError)
        assert quote.status == "superseded"
        assert PurchaseIntent.objects.count() == 0


def test_same_client_id_sent_five_times_at_once_stores_one_message():
    room = make_room()
    cid = client_id()

    results = run_together(
        *[
            lambda: services.message_send(
                user=room.buyer, negotiation_id=room.pk, client_id=cid, body="Price for 500?"
            )
            for _ in range(5)
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({message.pk for message, _created in results}) == 1
    assert sorted(created for _message, created in results) == [False] * 4 + [True]
    assert Message.objects.filter(negotiation=room, client_id=cid).count() == 1
    room.refresh_from_db()
    assert room.last_seq == 2


def test_many_writers_in_one_room_get_gapless_sequence_numbers():
    room = make_room()
    owner = owner_of(room.exhibitor)
    sales = add_member(room.exhibitor, "sales")
    retried = client_id()
    calls = []
    for i in range(4):
        for user in (room.buyer, owner, sales):
            calls.append(
                lambda user=user, i=i: services.message_send(
                    user=user, negotiation_id=room.pk, client_id=client_id(), body=f"m{i}"
                )
            )
    calls += [
        lambda: services.message_send(
            user=room.buyer, negotiation_id=room.pk, client_id=retried, body="retry"
        )
        for _ in range(3)
    ]

    results = run_together(*calls)

    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = list(Message.objects.filter(negotiation=room).order_by("seq").values_list("seq"))
    assert [s for (s,) in seqs] == list(range(1, 12 + 1 + 1 + 1))
    room.refresh_from_db()
    assert room.last_seq == 14
