"""The live-video figures of the organisers' dashboard: streams and viewers now (Redis), the
top rooms, and streams live per hour across the fair (one query)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from django.utils import timezone

from fair.dashboard import FigureContext, figure_providers
from fair.models import FairEdition
from fair.organiser.nav import organiser_nav
from livestream import services
from livestream.figures import live_figures, streams_per_hour
from livestream.models import LiveSession
from livestream.presence import Presence, backend_from_settings
from tests.exhibitors.factories import make_exhibitor, owner_of

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _context(now: datetime, *, tz=SHANGHAI, edition=None) -> FigureContext:
    local = now.astimezone(tz)
    return FigureContext(
        now=now,
        tz=tz,
        edition=edition,
        today_start=local.replace(hour=0, minute=0, second=0, microsecond=0),
    )


def _live(name: str) -> LiveSession:
    """An ad-hoc session ("<name> is live now"): the encoder went live unscheduled."""
    exhibitor = make_exhibitor(name=name)
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    return services.media_publish(public_id=channel.public_id, key=key)


def _watched(rooms: dict[int, int], *, tick: bool = True) -> Presence:
    """``rooms[session id]`` anonymous sockets join through one process's presence, which
    then runs its timer's round once (as every interval): the counts the rooms are sent,
    and publish to the dashboard."""
    process = Presence(backend_from_settings(), save_peaks=False, run_timer=False)

    async def watch() -> None:
        for session_id, anonymous in rooms.items():
            for n in range(anonymous):
                await process.join(session_id, f"fig-{session_id}-{n}", None)
        if tick:
            await process.tick()

    async_to_sync(watch)()
    return process


# --- Registration --------------------------------------------------------------------------------


def test_figures_and_nav_entries_are_registered():
    providers = figure_providers()
    assert (providers["live"].compute, providers["live"].every) == (live_figures, 5)
    assert (providers["streams_per_hour"].compute, providers["streams_per_hour"].every) == (
        streams_per_hour,
        60,
    )
    urls = {item["url"]: str(item["label"]) for item in organiser_nav("/")}
    assert urls[reverse("org_live:reports")] == "Moderation"
    assert urls[reverse("org_live:sessions")] == "Live sessions"


# --- Live now ------------------------------------------------------------------------------------


def test_live_figures_count_streams_viewers_and_rank_top_sessions(django_assert_num_queries):
    quiet = _live("Quiet Co")
    busy = _live("Busy Co")
    middle = _live("Middle Co")
    make_exhibitor(name="Not live")  # no session at all
    _watched({busy.pk: 5, middle.pk: 2})

    with django_assert_num_queries(2):
        data = live_figures(_context(timezone.now()))

    assert data["streams_live"] == 3
    assert data["viewers_now"] == 7
    assert data["top_sessions"] == [
        {
            "id": busy.pk,
            "title": "Busy Co is live now",
            "exhibitor": "Busy Co",
            "viewers": 5,
            "url": reverse("livestream:room", args=[busy.pk]),
        },
        {
            "id": middle.pk,
            "title": "Middle Co is live now",
            "exhibitor": "Middle Co",
            "viewers": 2,
            "url": reverse("livestream:room", args=[middle.pk]),
        },
        {
            "id": quiet.pk,
            "title": "Quiet Co is live now",
            "exhibitor": "Quiet Co",
            "viewers": 0,
            "url": reverse("livestream:room", args=[quiet.pk]),
        },
    ]


def test_live_figures_nothing_live(django_assert_num_queries):
    with django_assert_num_queries(1):
        data = live_figures(_context(timezone.now()))
    assert data == {"streams_live": 0, "viewers_now": 0, "top_sessions": []}


def test_live_figures_keep_ten_top_sessions():
    sessions = [_live(f"Co {n}") for n in range(12)]
    _watched({session.pk: n for n, session in enumerate(sessions)})

    data = live_figures(_context(timezone.now()))

    assert data["streams_live"] == 12
    assert data["viewers_now"] == sum(range(12))
    assert [row["viewers"] for row in data["top_sessions"]] == list(range(11, 1, -1))


def test_live_figures_show_what_the_rooms_were_last_sent_not_untimed_joins():
    session = _live("Fresh Co")
    process = _watched({session.pk: 3}, tick=False)  # joined, the interval not over yet

    before_tick = live_figures(_context(timezone.now()))
    async_to_sync(process.tick)()
    after_tick = live_figures(_context(timezone.now()))

    assert (before_tick["viewers_now"], before_tick["top_sessions"][0]["viewers"]) == (0, 0)
    assert (after_tick["viewers_now"], after_tick["top_sessions"][0]["viewers"]) == (3, 3)


def test_live_figures_leave_out_rooms_of_sessions_no_longer_live():
    live = _live("Still Co")
    over = _live("Over Co")
    _watched({live.pk: 2, over.pk: 4})
    LiveSession.objects.filter(pk=over.pk).update(status="ended", ended_at=timezone.now())

    data = live_figures(_context(timezone.now()))

    assert (data["streams_live"], data["viewers_now"]) == (1, 2)
    assert [(row["id"], row["viewers"]) for row in data["top_sessions"]] == [(live.pk, 2)]


def test_live_figures_room_emptied_by_its_last_viewer_counts_zero():
    session = _live("Empty Co")
    process = _watched({session.pk: 2})

    async def everyone_leaves() -> None:
        for n in range(2):
            await process.leave(session.pk, f"fig-{session.pk}-{n}", None)

    async_to_sync(everyone_leaves)()
    data = live_figures(_context(timezone.now()))

    assert (data["streams_live"], data["viewers_now"]) == (1, 0)
    assert data["top_sessions"][0]["viewers"] == 0


# --- Streams per hour ----------------------------------------------------------------------------


def _span(exhibitor, start: datetime, end: datetime | None, *, scheduled_hours: int = 1):
    """A session that ran from ``start`` to ``end`` (``None``: still live)."""
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Span",
        start=start,
        end=start + timedelta(hours=scheduled_hours),
    )
    LiveSession.objects.filter(pk=session.pk).update(
        status="live" if end is None else "ended", started_at=start, ended_at=end
    )
    return session


def test_streams_per_hour_across_the_edition_in_the_fair_zone(django_assert_num_queries):
    # The edition opened at 08:00 Shanghai (00:00 UTC); it is 04:20 UTC now: five hours.
    now = datetime(2030, 3, 10, 4, 20, tzinfo=UTC)
    edition = FairEdition.objects.create(
        name="Spring",
        slug="spring",
        starts_at=datetime(2030, 3, 10, 0, 0, tzinfo=UTC),
        ends_at=datetime(2030, 3, 12, 0, 0, tzinfo=UTC),
        time_zone="Asia/Shanghai",
    )
    exhibitors = [make_exhibitor(name=f"Hour Co {n}") for n in range(6)]
    at = lambda h, m=0: datetime(2030, 3, 10, h, m, tzinfo=UTC)  # noqa: E731
    _span(exhibitors[0], at(0, 10), at(0, 40))  # hour 0 only
    _span(exhibitors[1], at(0, 30), at(2, 0))  # hours 0 and 1 (ends exactly at 2:00)
    _span(exhibitors[2], at(1, 59), at(3, 1), scheduled_hours=2)  # hours 1, 2, 3
    _span(exhibitors[3], at(3, 30), None)  # hours 3, 4 (still live)
    # Started before the fair opened, ended during hour 1: counts from the first hour.
    _span(exhibitors[4], datetime(2030, 3, 9, 22, 0, tzinfo=UTC), at(1, 5), scheduled_hours=4)
    _span(exhibitors[5], datetime(2030, 3, 9, 20, 0, tzinfo=UTC), at(0, 0))  # ended at opening

    with django_assert_num_queries(1):
        data = streams_per_hour(_context(now, edition=edition))

    assert data["labels"] == [
        "2030-03-10T08:00:00+08:00",
        "2030-03-10T09:00:00+08:00",
        "2030-03-10T10:00:00+08:00",
        "2030-03-10T11:00:00+08:00",
        "2030-03-10T12:00:00+08:00",
    ]
    assert data["values"] == [3, 3, 1, 2, 1]


def test_streams_per_hour_without_edition_covers_the_last_48_hours_half_hour_zone():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: local hours start at :30 UTC
    now = datetime(2030, 6, 1, 12, 10, tzinfo=UTC)  # 17:40 in Kolkata
    exhibitor = make_exhibitor()
    _span(exhibitor, datetime(2030, 6, 1, 11, 0, tzinfo=UTC), None)  # from 16:30 local

    data = streams_per_hour(_context(now, tz=kolkata))

    assert len(data["labels"]) == 49
    assert data["labels"][0] == "2030-05-30T17:00:00+05:30"
    assert data["labels"][-1] == "2030-06-01T17:00:00+05:30"
    assert data["values"][-3:] == [0, 1, 1]  # 15:00 none, 16:00 (from 16:30), 17:00
    assert sum(data["values"]) == 2


def test_streams_per_hour_before_the_edition_opens_is_one_empty_hour():
    now = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
    edition = FairEdition.objects.create(
        name="Later",
        slug="later",
        starts_at=datetime(2030, 2, 1, 1, 0, tzinfo=UTC),
        ends_at=datetime(2030, 2, 3, 0, 0, tzinfo=UTC),
    )
    data = streams_per_hour(_context(now, edition=edition))
    assert data == {"labels": ["2030-02-01T09:00:00+08:00"], "values": [0]}
