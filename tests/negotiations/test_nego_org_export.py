"""The organisers' negotiations page and its CSV export: purchase intents per exhibitor,
buyer country and currency, no buyer name and no message; streamed; audited."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from fair.models import AuditEntry
from negotiations import services
from negotiations.models import PurchaseIntent
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import make_exhibitor
from tests.factories import make_buyer, make_organiser
from tests.negotiations.nego_factories import make_quote, make_room, send

SECRET = "Confidential target price 777"


def _deal(exhibitor, buyer, *, price: str, currency: str = "USD", product: str = "Kettle"):
    room = make_room(exhibitor=exhibitor, buyer=buyer)
    send(buyer, room, SECRET)
    owner = exhibitor.members.get(role="owner").user
    quote = make_quote(
        owner,
        room,
        unit_price=Decimal(price),
        quantity=Decimal("10"),
        currency=currency,
        product_text=product,
    )
    return services.quote_accept(user=buyer, quote_id=quote.pk)


def _at(intent: PurchaseIntent, when: datetime) -> None:
    PurchaseIntent.objects.filter(pk=intent.pk).update(created_at=when)


@pytest.fixture
def deals(db, django_capture_on_commit_callbacks):
    acme = make_exhibitor(name="=Acme Tools")  # a formula-like name, neutralised in the CSV
    bolt = make_exhibitor(name="Bolt Lighting")
    saudi = [make_buyer(full_name=f"Saudi Buyer {n}", country="SA") for n in range(2)]
    russian = make_buyer(full_name="Ivan Buyerov", company="Rostov Trade", country="RU")
    with django_capture_on_commit_callbacks(execute=True):
        a1 = _deal(acme, saudi[0], price="1.50")  # 15.00 USD
        a2 = _deal(acme, saudi[1], price="2.25")  # 22.50 USD
        a3 = _deal(acme, russian, price="3.00", currency="EUR")  # 30.00 EUR
        b1 = _deal(bolt, russian, price="4.00", product="Secret lamp")  # 40.00 USD
    _at(a1, datetime(2026, 6, 15, 8, 0, tzinfo=UTC))
    _at(a2, datetime(2026, 6, 16, 9, 30, tzinfo=UTC))
    _at(a3, datetime(2026, 6, 15, 10, 0, tzinfo=UTC))
    _at(b1, datetime(2026, 6, 17, 11, 0, tzinfo=UTC))
    return {"acme": acme, "bolt": bolt, "buyers": [*saudi, russian]}


def _rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_intents_csv_aggregates_per_exhibitor_country_and_currency(client, deals):
    organiser = make_organiser()
    client.force_login(organiser)

    response = client.get(reverse("org_negotiations:intents_csv"))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith('attachment; filename="purchase-intents-')
    acme, bolt = deals["acme"].pk, deals["bolt"].pk
    assert _rows(response) == [
        [
            "Exhibitor id",
            "Exhibitor",
            "Buyer country",
            "Currency",
            "Purchase intents",
            "Total value",
            "First (UTC)",
            "Last (UTC)",
        ],
        [
            str(acme),
            "'=Acme Tools",
            "RU",
            "EUR",
            "1",
            "30.00",
            "2026-06-15 10:00:00",
            "2026-06-15 10:00:00",
        ],
        [
            str(acme),
            "'=Acme Tools",
            "SA",
            "USD",
            "2",
            "37.50",
            "2026-06-15 08:00:00",
            "2026-06-16 09:30:00",
        ],
        [
            str(bolt),
            "Bolt Lighting",
            "RU",
            "USD",
            "1",
            "40.00",
            "2026-06-17 11:00:00",
            "2026-06-17 11:00:00",
        ],
    ]


def test_intents_csv_names_no_buyer_and_no_message(client, deals):
    client.force_login(make_organiser())

    body = b"".join(client.get(reverse("org_negotiations:intents_csv")).streaming_content)

    text = body.decode("utf-8")
    for buyer in deals["buyers"]:
        assert buyer.full_name not in text
        assert buyer.email not in text
    for secret in (SECRET, "Rostov Trade", "Secret lamp", "Kettle"):
        assert secret not in text


def test_intents_csv_download_is_audited(client, deals):
    organiser = make_organiser()
    client.force_login(organiser)

    response = client.get(reverse("org_negotiations:intents_csv"))

    entry = AuditEntry.objects.get(action="export.download")
    assert entry.actor == organiser
    assert entry.actor_email == organiser.email
    assert entry.data["export"] == "negotiation_intents"
    assert response["Content-Disposition"].split('"')[1] == entry.data["filename"]


def test_intents_csv_query_count_is_flat(client, deals, django_assert_num_queries):
    client.force_login(make_organiser())
    response = client.get(reverse("org_negotiations:intents_csv"))

    # The rows come from one aggregate query, read as the response streams.
    with django_assert_num_queries(1):
        rows = _rows(response)
    assert len(rows) == 4


@pytest.mark.parametrize("role", ["buyer", "owner"])
def test_intents_csv_is_not_found_for_buyers_and_exhibitors(client, deals, role):
    user = deals["buyers"][0] if role == "buyer" else deals["acme"].members.get().user
    client.force_login(user)

    response = client.get(reverse("org_negotiations:intents_csv"))

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="export.download").exists()
    assert b"Acme" not in response.content


@pytest.fixture
def reference_data(transactional_db) -> None:
    """The organisers group a data migration creates: ``transactional_db`` empties every
    table after each test, so it is loaded again (idempotent), as tests/e2e/conftest.py
    does."""
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.mark.django_db(transaction=True)
async def test_intents_csv_streams_asynchronously_under_asgi(async_client, reference_data):
    """Under Daphne the rows are fetched in chunks on the request's database thread: the
    response is an asynchronous stream (Django neither buffers nor warns)."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    organiser = await sync_to_async(make_organiser)()
    exhibitor = await sync_to_async(make_exhibitor)(name="Async Maker")
    buyer = await sync_to_async(make_buyer)(country="BR")
    await sync_to_async(_deal)(exhibitor, buyer, price="1.00")
    await async_client.aforce_login(organiser)
    try:
        response = await async_client.get(reverse("org_negotiations:intents_csv"))

        assert response.status_code == 200
        assert response.is_async
        chunks = [chunk async for chunk in response.streaming_content]
    finally:
        # The database thread's connection, so the test database can be dropped.
        await sync_to_async(connections.close_all)()
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8")[1:])))
    assert rows[1][1:6] == ["Async Maker", "BR", "USD", "1", "10.00"]


def test_overview_shows_figures_and_the_busiest_rows_first(client, deals):
    client.force_login(make_organiser())

    response = client.get(reverse("org_negotiations:overview"))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<h1 id="org-title">Negotiations</h1>' in body
    assert '<span class="org-figure-value" data-figure="rooms-total">4</span>' in body
    assert '<span class="org-figure-value" data-figure="quotes-total">4</span>' in body
    assert '<span class="org-figure-value" data-figure="intents-total">4</span>' in body
    assert "77.50 USD" in body  # 15.00 + 22.50 + 40.00
    assert "30.00 EUR" in body
    rows = response.context["page"].object_list
    assert [(r["exhibitor_name"], r["buyer_country"], r["intents"]) for r in rows] == [
        ("=Acme Tools", "SA", 2),
        ("=Acme Tools", "RU", 1),
        ("Bolt Lighting", "RU", 1),
    ]
    assert "Saudi Arabia" in body
    assert reverse("org_negotiations:intents_csv") in body
    for buyer in deals["buyers"]:
        assert buyer.full_name not in body
    assert SECRET not in body
    assert 'aria-current="page">Negotiations</a>' in body


def test_overview_with_no_intents_says_so(client, db):
    client.force_login(make_organiser())

    body = client.get(reverse("org_negotiations:overview")).content.decode()

    assert "No purchase intents yet." in body


def test_overview_query_count_is_flat(client, deals, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_organiser())
    url = reverse("org_negotiations:overview")
    client.get(url)  # warm the session and the fair edition cache
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            _deal(make_exhibitor(name=f"More {n}"), make_buyer(country="DE"), price="1")

    with CaptureQueriesContext(connection) as after:
        response = client.get(url)

    assert len(response.context["page"].object_list) == 6
    assert len(after.captured_queries) == len(before.captured_queries)
