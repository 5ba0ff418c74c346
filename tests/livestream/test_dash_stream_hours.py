"""Streams per hour with closed hours cached: later runs query the open hours only and stay
exact as sessions go live and end; deletions and backdating saves forget the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fair.dashboard import FigureContext
from fair.dashboard_buckets import bucket_of
from fair.models import FairEdition
from livestream import services
from livestream.figures import STREAM_HOURS, streams_per_hour
from livestream.models import LiveSession
from tests.exhibitors.factories import make_exhibitor, owner_of

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)


def at(h: int, m: int = 0) -> datetime:
    return datetime(2030, 3, 10, h, m, tzinfo=UTC)


def _context(now: datetime, edition) -> FigureContext:
    local = now.astimezone(SHANGHAI)
    return FigureContext(
        now=now,
        tz=SHANGHAI,
        edition=edition,
        today_start=local.replace(hour=0, minute=0, second=0, microsecond=0),
    )


@pytest.fixture
def edition():
    # Opened 08:00 Shanghai = 00:00 UTC; the chart's hours below are written in UTC.
    return FairEdition.objects.create(
        name="Spring",
        slug="spring",
        starts_at=at(0),
        ends_at=at(23),
        time_zone="Asia/Shanghai",
    )


def _span(start: datetime, end: datetime | None) -> LiveSession:
    exhibitor = make_exhibitor()
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Span",
        start=start,
        end=start + 3 * HOUR,
    )
    # As the services stamp them (going live, ending), without their signals: the stamps
    # are the moments of the changes, which the tests' clocks below respect.
    LiveSession.objects.filter(pk=session.pk).update(
        status="live" if end is None else "ended", started_at=start, ended_at=end
    )
    return session


def _fresh(now: datetime, edition) -> list[int]:
    """The figures computed from scratch (the cache forgotten)."""
    STREAM_HOURS.forget()
    return streams_per_hour(_context(now, edition))["values"]


def test_live_session_ending_later_leaves_closed_hours_exact(edition, django_assert_num_queries):
    long = _span(at(0, 30), None)  # live since 00:30, still running at 03:20
    _span(at(1, 10), at(1, 50))
    with django_assert_num_queries(1):
        first = streams_per_hour(_context(at(3, 20), edition))["values"]
    cached, _generation = STREAM_HOURS.read()

    # 03:40 the long one ends; 03:50 another goes live; 04:30 a third starts and ends.
    LiveSession.objects.filter(pk=long.pk).update(status="ended", ended_at=at(3, 40))
    late = _span(at(3, 50), None)
    _span(at(4, 30), at(4, 45))
    with django_assert_num_queries(1):
        later = streams_per_hour(_context(at(5, 10), edition))["values"]
    LiveSession.objects.filter(pk=late.pk).update(status="ended", ended_at=at(5, 20))
    with django_assert_num_queries(1):
        last = streams_per_hour(_context(at(5, 30), edition))["values"]

    assert first == [1, 2, 1, 1]  # 00, 01, 02, 03 UTC
    # Closed: 00, 01, 02 (03:00 + 5 min grace is past); 03 is still open.
    assert sorted(cached) == [bucket_of(at(h), at(h + 1)) for h in range(3)]
    assert later == [1, 2, 1, 2, 2, 1]
    assert last == [1, 2, 1, 2, 2, 1]
    assert last == _fresh(at(5, 30), edition)


def test_closed_hours_come_from_the_cache_not_the_database(edition):
    _span(at(0, 30), None)
    streams_per_hour(_context(at(2, 10), edition))
    cached, generation = STREAM_HOURS.read()
    # A figure the database cannot give: proves the closed hour is not queried again.
    STREAM_HOURS.write({**cached, bucket_of(at(0), at(1)): 99}, generation)

    values = streams_per_hour(_context(at(2, 20), edition))["values"]

    assert values == [99, 1, 1]


def test_an_hour_is_closed_five_minutes_after_its_end(edition):
    _span(at(0, 30), None)

    streams_per_hour(_context(at(1, 4), edition))
    within_grace, _ = STREAM_HOURS.read()
    streams_per_hour(_context(at(1, 6), edition))
    after_grace, _ = STREAM_HOURS.read()

    assert within_grace == {}
    assert after_grace == {bucket_of(at(0), at(1)): 1}


def test_edition_over_reads_every_hour_from_the_cache(edition, django_assert_num_queries):
    _span(at(2, 0), at(4, 0))
    after = at(23) + timedelta(hours=2)
    first = streams_per_hour(_context(after, edition))["values"]

    with django_assert_num_queries(0):
        again = streams_per_hour(_context(after + HOUR, edition))["values"]

    assert len(first) == 24
    assert first[:5] == [0, 0, 1, 1, 0]
    assert again == first


def test_deleting_a_session_forgets_the_closed_hours(edition, django_capture_on_commit_callbacks):
    gone = _span(at(0, 10), at(0, 40))
    _span(at(0, 20), at(1, 30))
    before = streams_per_hour(_context(at(3, 0), edition))["values"]

    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    after = streams_per_hour(_context(at(3, 10), edition))["values"]

    assert before == [2, 1, 0, 0]
    assert after == [1, 1, 0, 0]


def test_backdating_save_forgets_going_live_and_ending_do_not(
    edition, django_capture_on_commit_callbacks
):
    session = _span(at(0, 10), at(0, 40))
    streams_per_hour(_context(at(3, 0), edition))
    _cached, generation = STREAM_HOURS.read()

    exhibitor = make_exhibitor()
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    with django_capture_on_commit_callbacks(execute=True):
        live = services.media_publish(public_id=channel.public_id, key=key)
        services.media_publish_done(public_id=channel.public_id, key=key)
    after_live_and_end = STREAM_HOURS.read()[1]

    corrected = LiveSession.objects.get(pk=session.pk)
    with django_capture_on_commit_callbacks(execute=True):
        corrected.ended_at = at(2, 30)  # an admin correcting the end: hours 01, 02 move
        corrected.save()
    values = streams_per_hour(_context(at(3, 10), edition))["values"]

    assert LiveSession.objects.get(pk=live.pk).status == "ended"
    assert after_live_and_end == generation
    assert values == [1, 1, 1, 0]


def test_write_under_an_old_generation_is_ignored(edition):
    _span(at(0, 30), at(0, 50))
    _cached, generation = STREAM_HOURS.read()
    STREAM_HOURS.forget()  # a deletion committed while a run was querying
    STREAM_HOURS.write({bucket_of(at(0), at(1)): 5}, generation)

    cached, _ = STREAM_HOURS.read()
    values = streams_per_hour(_context(at(1, 30), edition))["values"]

    assert cached == {}
    assert values == [1, 0]


def test_without_edition_the_rolling_window_drops_hours_that_left_it():
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    streams_per_hour(_context(now, None))
    cached_then, _ = STREAM_HOURS.read()

    streams_per_hour(_context(now + 3 * HOUR, None))
    cached_later, _ = STREAM_HOURS.read()

    first_hour = (now - timedelta(hours=48)).replace(minute=0)
    assert len(cached_then) == 48  # the current hour is open
    assert min(cached_then) == bucket_of(first_hour, first_hour + HOUR)
    assert len(cached_later) == 48
    assert min(cached_later) == bucket_of(first_hour + 3 * HOUR, first_hour + 4 * HOUR)
