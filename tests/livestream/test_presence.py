"""Viewer presence: counting in Redis (and the embedded in-memory fallback), stale sockets,
the per-process timer, several processes on one Redis, and the room's database reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from buyers.models import Follow
from livestream import services
from livestream.models import LiveSession
from livestream.presence import (
    MemoryBackend,
    Presence,
    RedisBackend,
    live_room_access,
    peak_viewers_save,
    room_viewers_identified,
)
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer, make_user

NOW = 1_800_000_000.0


def redis_backend() -> RedisBackend:
    # The test run's own key prefix: tests/conftest.py deletes these keys around every test.
    return RedisBackend(settings.REDIS_URL, prefix=settings.REDIS_KEY_PREFIX, max_connections=4)


@pytest.fixture(params=["redis", "memory"])
def backend(request):
    return redis_backend() if request.param == "redis" else MemoryBackend()


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def schedule_public(exhibitor=None, *, minutes_from_now: int = -5) -> LiveSession:
    exhibitor = exhibitor or make_exhibitor()
    start = timezone.now() + timedelta(minutes=minutes_from_now)
    return services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )


# --- Counting ------------------------------------------------------------------------------


async def test_backend_two_anonymous_sockets_count_two_and_peak_stays_after_leave(backend):
    first = await backend.join(1, "sock-a", None, NOW)
    second = await backend.join(1, "sock-b", None, NOW + 1)
    await backend.leave(1, "sock-a", None, NOW + 2)
    after = await backend.snapshot(1, NOW + 2)

    assert (first, second, after) == ((1, 1), (2, 2), (1, 2))


async def test_backend_one_user_with_two_tabs_counts_once_until_both_leave(backend):
    await backend.join(1, "tab-1", 7, NOW)
    both = await backend.join(1, "tab-2", 7, NOW)
    await backend.leave(1, "tab-1", 7, NOW + 1)
    one_left = await backend.snapshot(1, NOW + 1)
    await backend.leave(1, "tab-2", 7, NOW + 2)
    none_left = await backend.snapshot(1, NOW + 2)

    assert (both, one_left, none_left) == ((1, 1), (1, 1), (0, 1))


async def test_backend_rooms_are_counted_separately(backend):
    await backend.join(1, "a", None, NOW)
    await backend.join(2, "b", 5, NOW)
    await backend.join(2, "c", None, NOW)

    assert (await backend.snapshot(1, NOW), await backend.snapshot(2, NOW)) == ((1, 1), (2, 2))


async def test_backend_socket_without_heartbeat_for_61_s_is_not_counted(backend):
    await backend.join(1, "crashed-process-socket", None, NOW)
    await backend.join(1, "crashed-user-socket", 9, NOW)
    await backend.join(1, "alive", None, NOW + 50)

    at_60 = await backend.snapshot(1, NOW + 60)
    at_61 = await backend.snapshot(1, NOW + 61)
    ids_at_61 = await backend.user_ids(1, NOW + 61, 100)

    assert at_60 == (3, 3)
    assert at_61 == (1, 3)
    assert ids_at_61 == []


async def test_backend_heartbeat_keeps_sockets_counted(backend):
    await backend.join(1, "a", None, NOW)
    await backend.join(1, "b", 4, NOW)
    await backend.heartbeat({1: {"a": None, "b": 4}}, NOW + 40)

    assert await backend.snapshot(1, NOW + 90) == (2, 2)
    assert await backend.user_ids(1, NOW + 90, 100) == [4]


async def test_backend_tick_reports_change_only_when_count_changed(backend):
    await backend.join(1, "a", None, NOW)
    first = await backend.tick(1, NOW, 0.001)
    await _after_lock()
    same = await backend.tick(1, NOW + 5, 0.001)
    await backend.join(1, "b", None, NOW + 6)
    await _after_lock()
    grown = await backend.tick(1, NOW + 10, 0.001)

    assert (first.acquired, first.count, first.peak, first.changed) == (True, 1, 1, True)
    assert (same.acquired, same.count, same.changed) == (True, 1, False)
    assert (grown.acquired, grown.count, grown.peak, grown.changed) == (True, 2, 2, True)


async def _after_lock() -> None:
    import asyncio

    await asyncio.sleep(0.005)


async def test_backend_tick_prunes_stale_members(backend):
    await backend.join(1, "ghost", 3, NOW)
    await backend.join(1, "ghost-anon", None, NOW)
    await backend.join(1, "alive", None, NOW + 100)

    tick = await backend.tick(1, NOW + 100, 0.001)

    assert (tick.count, tick.peak) == (1, 2)
    assert await backend.user_ids(1, NOW, 100) == []


async def test_backend_user_ids_most_recent_first_and_limited(backend):
    await backend.join(1, "a", 1, NOW)
    await backend.join(1, "b", 2, NOW + 2)
    await backend.join(1, "c", 3, NOW + 1)

    assert await backend.user_ids(1, NOW + 3, 100) == [2, 3, 1]
    assert await backend.user_ids(1, NOW + 3, 2) == [2, 3]


async def test_redis_backend_stale_entry_written_by_dead_process_is_ignored():
    backend = redis_backend()
    # What a crashed process leaves behind: entries whose heartbeat stopped 2 minutes ago.
    await backend.client.zadd(backend.key(1, "anon"), {"specific.dead!channel": NOW - 120})
    await backend.client.zadd(backend.key(1, "users"), {"42": NOW - 120})
    await backend.join(1, "specific.alive!channel", None, NOW)

    assert await backend.snapshot(1, NOW) == (1, 1)
    assert await backend.user_ids(1, NOW, 100) == []


async def test_redis_backend_tick_lock_lets_one_process_of_two_count():
    one, two = redis_backend(), redis_backend()
    await one.join(1, "a", None, NOW)

    first = await one.tick(1, NOW, 5)
    second = await two.tick(1, NOW, 5)

    assert (first.acquired, first.count) == (True, 1)
    assert (second.acquired, second.count) == (False, 0)


async def test_redis_backend_keys_use_prefix_and_session_hash_tag():
    backend = redis_backend()

    assert backend.key(12, "users") == f"{settings.REDIS_KEY_PREFIX}:live:{{12}}:users"


# --- The process's presence and its timer -------------------------------------------------


async def test_presence_two_processes_on_one_redis_count_each_others_viewers():
    clock = Clock()
    process_a = Presence(redis_backend(), save_peaks=False, run_timer=False, clock=clock)
    process_b = Presence(redis_backend(), save_peaks=False, run_timer=False, clock=clock)
    try:
        await process_a.join(1, "a.1", None)
        await process_b.join(1, "b.1", 8)

        seen_by_a = await process_a.snapshot(1)
        seen_by_b = await process_b.snapshot(1)
    finally:
        await process_a.leave(1, "a.1", None)
        await process_b.leave(1, "b.1", 8)

    assert seen_by_a == seen_by_b == (2, 2)


async def test_presence_tick_broadcasts_only_when_count_changed_and_once_across_processes():
    clock = Clock()
    process_a = Presence(redis_backend(), save_peaks=False, run_timer=False, clock=clock)
    process_b = Presence(redis_backend(), save_peaks=False, run_timer=False, clock=clock)
    try:
        await process_a.join(5, "a.1", None)
        await process_b.join(5, "b.1", None)
        first_a = await process_a.tick()
        first_b = await process_b.tick()  # the room's lock is held: b stays quiet
        await _after_interval_lock()
        unchanged = await process_a.tick()
    finally:
        await process_a.leave(5, "a.1", None)
        await process_b.leave(5, "b.1", None)

    assert first_a == [{"type": "viewers", "session": 5, "count": 2, "peak": 2}]
    assert first_b == []
    assert unchanged == []


async def _after_interval_lock() -> None:
    import asyncio

    # The lock lasts 80 % of LIVE_VIEWERS_INTERVAL (set to 0.05 s for these tests).
    await asyncio.sleep(0.06)


@pytest.fixture(autouse=True)
def _short_interval(settings):
    settings.LIVE_VIEWERS_INTERVAL = 0.05


async def test_presence_tick_refreshes_heartbeats_of_own_sockets_so_they_stay_counted():
    clock = Clock()
    process = Presence(redis_backend(), save_peaks=False, run_timer=False, clock=clock)
    try:
        await process.join(3, "a.1", None)
        await process.tick()  # first heartbeat round at NOW
        clock.now = NOW + 45
        await process.tick()  # 45 s later: heartbeats refreshed
        clock.now = NOW + 100
        still_counted = await process.snapshot(3)
    finally:
        await process.leave(3, "a.1", None)

    assert still_counted == (1, 1)


async def test_presence_timer_task_starts_with_first_socket_and_stops_with_last():
    process = Presence(MemoryBackend(), save_peaks=False)
    await process.join(1, "a", None)
    await process.join(2, "b", None)
    running = process._task is not None and not process._task.done()
    await process.leave(1, "a", None)
    still_running = process._task is not None and not process._task.done()
    task = process._task
    await process.leave(2, "b", None)

    assert (running, still_running) == (True, True)
    assert process._task is None
    assert task.cancelled() is True


# --- Database reads and the lazy peak --------------------------------------------------------


@pytest.mark.django_db
def test_live_room_access_public_session_open_to_anonymous_and_buyer(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    session = schedule_public()

    for user in (AnonymousUser(), make_buyer()):
        access = live_room_access(user=user, session_id=session.pk)
        assert (access.session_id, access.exhibitor_id, access.status, access.is_staff) == (
            session.pk,
            session.exhibitor_id,
            "scheduled",
            False,
        )


@pytest.mark.django_db
def test_live_room_access_cancelled_session_closed_to_buyer_open_to_sales_staff():
    exhibitor = make_exhibitor()
    sales = add_member(exhibitor, "sales")
    session = schedule_public(exhibitor)
    services.session_cancel(user=owner_of(exhibitor), session_id=session.pk)

    assert live_room_access(user=make_buyer(), session_id=session.pk) is None
    staff_access = live_room_access(user=sales, session_id=session.pk)
    assert (staff_access.status, staff_access.is_staff) == ("cancelled", True)


@pytest.mark.django_db
def test_live_room_access_pending_exhibitor_closed_to_other_company_staff():
    pending = make_exhibitor(approved=False)
    session = schedule_public(pending)
    other_owner = owner_of(make_exhibitor(name="Other Co"))

    assert live_room_access(user=other_owner, session_id=session.pk) is None
    assert live_room_access(user=owner_of(pending), session_id=session.pk).is_staff is True


@pytest.mark.django_db
def test_live_room_access_unknown_session_is_none():
    assert live_room_access(user=make_user(), session_id=987654) is None


@pytest.mark.django_db
def test_room_viewers_identified_names_consenting_buyers_only_and_counts_staff():
    exhibitor = make_exhibitor()
    sales = add_member(exhibitor, "sales", full_name="Sam Sales")
    anne = make_buyer(full_name="Anne Buyer", company="Riyadh Trading", country="SA")
    anne.buyer_profile.show_identity_in_rooms = True
    anne.buyer_profile.save()
    bruno = make_buyer(full_name="Bruno Buyer", company="Lisbon Imports", country="PT")
    bruno.buyer_profile.show_identity_in_rooms = True
    bruno.buyer_profile.save()
    Follow.objects.create(user=bruno, exhibitor=exhibitor)
    hidden = make_buyer(full_name="Hidden Buyer", company="Secret Co")
    no_profile = make_user(full_name="Plain User")

    viewers, staff = room_viewers_identified(
        user_ids=[hidden.pk, bruno.pk, sales.pk, anne.pk, no_profile.pk],
        exhibitor_id=exhibitor.pk,
    )

    assert viewers == [
        {
            "name": "Anne Buyer",
            "company": "Riyadh Trading",
            "country": "SA",
            "follows_booth": False,
        },
        {
            "name": "Bruno Buyer",
            "company": "Lisbon Imports",
            "country": "PT",
            "follows_booth": True,
        },
    ]
    assert staff == 1


@pytest.mark.django_db
def test_room_viewers_identified_no_ids_makes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert room_viewers_identified(user_ids=[], exhibitor_id=1) == ([], 0)


@pytest.mark.django_db
def test_room_viewers_identified_takes_two_queries_for_many_viewers(django_assert_num_queries):
    exhibitor = make_exhibitor()
    buyers = [make_buyer(show_identity_in_rooms=True) for _ in range(3)]

    with django_assert_num_queries(2):
        viewers, staff = room_viewers_identified(
            user_ids=[b.pk for b in buyers], exhibitor_id=exhibitor.pk
        )

    assert (len(viewers), staff) == (3, 0)


@pytest.mark.django_db
def test_peak_viewers_save_raises_and_never_lowers():
    session = schedule_public()

    raised = peak_viewers_save(session_id=session.pk, peak=7)
    lowered = peak_viewers_save(session_id=session.pk, peak=3)
    session.refresh_from_db()

    assert (raised, lowered, session.peak_viewers) == (1, 0, 7)
