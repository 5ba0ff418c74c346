"""Negotiations per day with closed days cached: later runs count the open day(s) only,
stay exact, and forget the cache when rooms are deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fair.dashboard import FigureContext
from fair.dashboard_buckets import bucket_of
from fair.models import FairEdition
from negotiations.figures import NEGOTIATION_DAYS, negotiations_per_day
from negotiations.models import Negotiation
from tests.exhibitors.factories import make_exhibitor
from tests.negotiations.nego_factories import make_room

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)


def local(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """June ``day``, 2026, at ``hour:minute`` in Shanghai."""
    return datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI)


def _context(now: datetime, edition) -> FigureContext:
    now = now.astimezone(UTC)
    return FigureContext(
        now=now,
        tz=SHANGHAI,
        edition=edition,
        today_start=now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0),
    )


@pytest.fixture
def edition():
    return FairEdition.objects.create(
        name="Summer",
        slug="summer",
        starts_at=local(13, 9),
        ends_at=local(20, 18),
        time_zone="Asia/Shanghai",
    )


def _opened(*moments: datetime) -> list[Negotiation]:
    exhibitor = make_exhibitor()
    rooms = []
    for moment in moments:
        room = make_room(exhibitor=exhibitor)
        # ``created_at`` is the insert's time; the tests' clocks below respect it.
        Negotiation.objects.filter(pk=room.pk).update(created_at=moment)
        rooms.append(room)
    return rooms


def test_closed_days_are_cached_and_today_counted_again(edition, django_assert_num_queries):
    _opened(local(13, 10), local(14, 23, 59), local(15, 0, 1), local(15, 12))
    with django_assert_num_queries(1):
        first = negotiations_per_day(_context(local(15, 13), edition))["values"]
    cached, _generation = NEGOTIATION_DAYS.read()

    _opened(local(15, 14), local(16, 8))
    with django_assert_num_queries(1):
        later = negotiations_per_day(_context(local(16, 9), edition))["values"]

    assert first == [1, 1, 2]
    assert sorted(cached) == [bucket_of(local(13), local(14)), bucket_of(local(14), local(15))]
    assert later == [1, 1, 3, 1]
    NEGOTIATION_DAYS.forget()
    assert negotiations_per_day(_context(local(16, 9), edition))["values"] == later


def test_closed_days_come_from_the_cache_not_the_database(edition):
    _opened(local(13, 10), local(14, 10))
    negotiations_per_day(_context(local(15, 1), edition))
    cached, generation = NEGOTIATION_DAYS.read()
    # A figure the database cannot give: proves the closed day is not queried again.
    NEGOTIATION_DAYS.write({**cached, bucket_of(local(13), local(14)): 42}, generation)

    values = negotiations_per_day(_context(local(15, 2), edition))["values"]

    assert values == [42, 1, 0]


def test_yesterday_stays_open_for_five_minutes_after_midnight(edition):
    _opened(local(13, 10))
    negotiations_per_day(_context(local(14, 0, 4), edition))
    within_grace, _ = NEGOTIATION_DAYS.read()
    # A room stamped 23:59:59.9 and committed after midnight still lands in its day.
    _opened(local(13, 23, 59) + timedelta(seconds=59.9))
    values = negotiations_per_day(_context(local(14, 0, 6), edition))["values"]
    after_grace, _ = NEGOTIATION_DAYS.read()

    assert within_grace == {}
    assert values == [2, 0]
    assert after_grace == {bucket_of(local(13), local(14)): 2}


def test_edition_over_reads_every_day_from_the_cache(edition, django_assert_num_queries):
    _opened(local(13, 10), local(20, 17))
    first = negotiations_per_day(_context(local(25), edition))["values"]

    with django_assert_num_queries(0):
        again = negotiations_per_day(_context(local(26), edition))["values"]

    assert first == [1, 0, 0, 0, 0, 0, 0, 1]
    assert again == first


def test_deleting_rooms_forgets_the_closed_days(edition, django_capture_on_commit_callbacks):
    gone, _kept = _opened(local(13, 10), local(13, 11))
    before = negotiations_per_day(_context(local(15, 1), edition))["values"]

    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    after = negotiations_per_day(_context(local(15, 2), edition))["values"]

    assert before == [2, 0, 0]
    assert after == [1, 0, 0]


def test_deletion_rolled_back_forgets_nothing(edition, django_capture_on_commit_callbacks):
    _opened(local(13, 10))
    negotiations_per_day(_context(local(15, 1), edition))
    _cached, generation = NEGOTIATION_DAYS.read()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Negotiation.objects.all().delete()

    assert len(callbacks) == 1  # would forget on commit; never committed here
    assert NEGOTIATION_DAYS.read()[1] == generation
