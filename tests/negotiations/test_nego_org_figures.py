"""The negotiation figures of the organisers' dashboard: exact counts, "today" in the fair's
zone, intents per currency, rooms per day over the edition, and a flat query count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fair.dashboard import FigureContext, figure_providers
from fair.models import FairEdition
from negotiations import figures, services
from negotiations.models import Negotiation, PurchaseIntent
from tests.exhibitors.factories import make_exhibitor
from tests.factories import make_buyer
from tests.negotiations.nego_factories import make_quote, make_room

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-06-16 09:00 in Shanghai: "today" began at 2026-06-15 16:00 UTC.
NOW = datetime(2026, 6, 16, 1, 0, tzinfo=UTC)


def _context(edition=None, now=NOW) -> FigureContext:
    local = now.astimezone(SHANGHAI)
    return FigureContext(
        now=now,
        tz=SHANGHAI,
        edition=edition,
        today_start=local.replace(hour=0, minute=0, second=0, microsecond=0),
    )


def _opened_at(room: Negotiation, at: datetime) -> None:
    Negotiation.objects.filter(pk=room.pk).update(created_at=at)


def _accepted(room: Negotiation, **quote) -> PurchaseIntent:
    staff = room.exhibitor.members.get(role="owner").user
    offer = make_quote(staff, room, **quote)
    return services.quote_accept(user=room.buyer, quote_id=offer.pk)


def test_figures_are_registered_with_their_intervals():
    providers = figure_providers()

    assert providers["negotiations"].every == 5
    assert providers["negotiations"].compute is figures.negotiations_figures
    assert providers["negotiations_per_day"].every == 60
    assert providers["negotiations_per_day"].compute is figures.negotiations_per_day


def test_figures_count_today_in_the_fairs_zone_quotes_and_intents(
    db, django_capture_on_commit_callbacks
):
    exhibitor = make_exhibitor()
    with django_capture_on_commit_callbacks(execute=True):
        rooms = [make_room(exhibitor=exhibitor) for _ in range(4)]
        _accepted(rooms[0], unit_price=Decimal("10.00"), quantity=Decimal("3"))  # 30.00 USD
        _accepted(rooms[1], unit_price=Decimal("2.50"), quantity=Decimal("5"))  # 12.50 USD
        _accepted(rooms[2], unit_price=Decimal("100"), quantity=Decimal("1"), currency="EUR")
        make_quote(exhibitor.members.get(role="owner").user, rooms[3])
    _opened_at(rooms[0], datetime(2026, 6, 15, 16, 0, tzinfo=UTC))  # 00:00 in Shanghai: today
    _opened_at(rooms[1], datetime(2026, 6, 16, 0, 59, tzinfo=UTC))  # today
    _opened_at(rooms[2], datetime(2026, 6, 15, 15, 59, tzinfo=UTC))  # 23:59 yesterday there
    _opened_at(rooms[3], datetime(2026, 6, 10, 12, 0, tzinfo=UTC))

    data = figures.negotiations_figures(_context())

    assert data == {
        "opened_today": 2,
        "opened_total": 4,
        "quotes_sent": 4,
        "intents": {
            "count": 3,
            "by_currency": [
                {"currency": "USD", "count": 2, "total": "42.50"},
                {"currency": "EUR", "count": 1, "total": "100.00"},
            ],
        },
    }


def test_figures_on_an_empty_fair_are_zero(db):
    assert figures.negotiations_figures(_context()) == {
        "opened_today": 0,
        "opened_total": 0,
        "quotes_sent": 0,
        "intents": {"count": 0, "by_currency": []},
    }


def test_figures_query_count_is_flat(db, django_assert_num_queries):
    exhibitor = make_exhibitor()
    make_room(exhibitor=exhibitor)
    with django_assert_num_queries(3):
        figures.negotiations_figures(_context())
    for _ in range(3):
        make_room(exhibitor=exhibitor)
    with django_assert_num_queries(3):
        figures.negotiations_figures(_context())
    with django_assert_num_queries(1):
        figures.negotiations_per_day(_context())


def test_per_day_without_edition_covers_the_last_14_days_in_the_fairs_zone(db):
    exhibitor = make_exhibitor()
    rooms = [make_room(exhibitor=exhibitor) for _ in range(4)]
    _opened_at(rooms[0], datetime(2026, 6, 15, 16, 30, tzinfo=UTC))  # 06-16 00:30 Shanghai
    _opened_at(rooms[1], datetime(2026, 6, 15, 15, 30, tzinfo=UTC))  # 06-15 23:30 Shanghai
    _opened_at(rooms[2], datetime(2026, 6, 15, 2, 0, tzinfo=UTC))  # 06-15
    _opened_at(rooms[3], datetime(2026, 5, 1, 2, 0, tzinfo=UTC))  # before the window

    data = figures.negotiations_per_day(_context())

    assert data["labels"][0] == "2026-06-03"
    assert data["labels"][-1] == "2026-06-16"
    assert len(data["labels"]) == len(data["values"]) == 14
    assert data["values"][-2:] == [2, 1]
    assert sum(data["values"]) == 3


def test_per_day_follows_the_edition_up_to_today(db):
    edition = FairEdition.objects.create(
        name="Summer 2026",
        slug="summer-2026",
        starts_at=datetime(2026, 6, 13, 1, 0, tzinfo=UTC),  # 06-13 09:00 Shanghai
        ends_at=datetime(2026, 6, 20, 10, 0, tzinfo=UTC),
        time_zone="Asia/Shanghai",
    )
    room = make_room()
    _opened_at(room, datetime(2026, 6, 14, 3, 0, tzinfo=UTC))

    running = figures.negotiations_per_day(_context(edition))
    after = figures.negotiations_per_day(_context(edition, now=NOW + timedelta(days=30)))

    assert running == {
        "labels": ["2026-06-13", "2026-06-14", "2026-06-15", "2026-06-16"],
        "values": [0, 1, 0, 0],
    }
    assert after["labels"] == [f"2026-06-{day}" for day in range(13, 21)]
    assert after["values"] == [0, 1, 0, 0, 0, 0, 0, 0]


def test_per_day_before_the_edition_opens_shows_the_last_14_days(db):
    edition = FairEdition.objects.create(
        name="Autumn 2026",
        slug="autumn-2026",
        starts_at=NOW + timedelta(days=60),
        ends_at=NOW + timedelta(days=65),
        time_zone="Asia/Shanghai",
    )

    data = figures.negotiations_per_day(_context(edition))

    assert (data["labels"][0], data["labels"][-1], len(data["values"])) == (
        "2026-06-03",
        "2026-06-16",
        14,
    )


def test_per_day_a_long_edition_keeps_its_last_62_days(db):
    edition = FairEdition.objects.create(
        name="Year-round",
        slug="year-round",
        starts_at=NOW - timedelta(days=200),
        ends_at=NOW + timedelta(days=10),
        time_zone="Asia/Shanghai",
    )

    data = figures.negotiations_per_day(_context(edition))

    assert len(data["labels"]) == figures.MAX_DAYS
    assert data["labels"][-1] == "2026-06-16"


@pytest.mark.django_db
def test_created_at_is_indexed_for_the_figures():
    from django.db import connection

    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, Negotiation._meta.db_table)
    assert any(
        details["index"] and details["columns"] == ["created_at"] for details in indexes.values()
    )


def test_figures_hold_no_party_message_or_product(db, django_capture_on_commit_callbacks):
    buyer = make_buyer(full_name="Zed Secretbuyer", company="Hidden Imports")
    with django_capture_on_commit_callbacks(execute=True):
        room = make_room(buyer=buyer)
        _accepted(room, product_text="Secret Widget")

    text = repr(figures.negotiations_figures(_context())) + repr(
        figures.negotiations_per_day(_context())
    )

    for secret in ("Secretbuyer", "Hidden Imports", "Secret Widget", room.exhibitor.display_name):
        assert secret not in text
