"""The fair-wide viewer summary behind the dashboard: presence ticks publish the counts they
send to the rooms, readers get every room in one round trip, emptied rooms and rooms no
process ticks any more drop out (Redis, and the embedded in-memory backend)."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

import livestream.viewers
from livestream.presence import MemoryBackend, Presence, RedisBackend, summary_keys
from livestream.viewers import viewers_published


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _short_interval(settings):
    settings.LIVE_VIEWERS_INTERVAL = 0.05  # the tick lock lasts 80 % of it


def redis_backend() -> RedisBackend:
    return RedisBackend(settings.REDIS_URL, prefix=settings.REDIS_KEY_PREFIX, max_connections=4)


def summary() -> dict[str, dict[str, float]]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    viewers, at = summary_keys(settings.REDIS_KEY_PREFIX)
    return {
        "viewers": dict(client.zrange(viewers, 0, -1, withscores=True)),
        "at": dict(client.zrange(at, 0, -1, withscores=True)),
    }


@pytest.fixture(params=["redis", "memory"])
def make_process(request, settings, monkeypatch):
    """Builds a process's presence on the backend under test; with the memory backend the
    readers see that process (the embedded demo: no REDIS_URL, one process)."""
    if request.param == "redis":
        return lambda clock=time.time: Presence(
            redis_backend(), save_peaks=False, run_timer=False, clock=clock
        )
    settings.REDIS_URL = ""
    backend = MemoryBackend()  # the processes of one test share it, as they would Redis
    monkeypatch.setattr(livestream.viewers, "presence", Presence(backend, run_timer=False))
    return lambda clock=time.time: Presence(backend, save_peaks=False, run_timer=False, clock=clock)


async def test_tick_publishes_each_rooms_count_and_readers_get_them(make_process):
    process = make_process()
    await process.join(1, "a.1", None)
    await process.join(1, "a.2", 7)
    await process.join(1, "a.3", 7)  # the same user's second tab: one viewer
    await process.join(2, "a.4", None)
    unticked = viewers_published([1, 2, 3])

    sent = await process.tick()
    ticked = viewers_published([1, 2, 3])

    assert unticked == {1: 0, 2: 0, 3: 0}
    assert sorted((event["session"], event["count"]) for event in sent) == [(1, 2), (2, 1)]
    assert ticked == {1: 2, 2: 1, 3: 0}  # exactly what the rooms were sent; 3 has no room
    assert viewers_published([2]) == {2: 1}  # only the rooms asked for
    assert viewers_published([]) == {}


async def test_tick_republishes_an_unchanged_count(make_process):
    clock = Clock(time.time() - 100)
    process = make_process(clock)
    await process.join(1, "a.1", None)
    await process.tick()  # published 100 s ago: stale by now, were it not rewritten
    clock.now += 95  # heartbeats refreshed on this tick; the room is sent nothing new
    await asyncio_sleep_past_lock()
    sent = await process.tick()

    assert sent == []
    assert viewers_published([1]) == {1: 1}


async def test_last_socket_leaving_removes_the_room(make_process):
    process = make_process()
    await process.join(4, "a.1", None)
    await process.join(4, "a.2", None)
    await process.tick()

    await process.leave(4, "a.1", None)
    still_ticked = viewers_published([4])  # the next tick publishes 1
    await process.leave(4, "a.2", None)

    assert still_ticked == {4: 2}
    assert viewers_published([4]) == {4: 0}


async def test_count_pruned_to_zero_by_a_tick_removes_the_room(make_process):
    # A socket whose heartbeats stopped (its process lost Redis, say) 65 s ago.
    now = time.time()
    clock = Clock(now - 65)
    process = make_process(clock)
    await process.join(6, "a.1", None)
    process._last_heartbeat = now  # no heartbeat rounds from here on
    clock.now = now - 30
    await process.tick()  # still counted: publishes 1
    published = viewers_published([6])
    clock.now = now
    await asyncio_sleep_past_lock()
    sent = await process.tick()  # 65 s without a heartbeat: pruned, 0

    assert published == {6: 1}
    assert [(event["session"], event["count"]) for event in sent] == [(6, 0)]
    assert viewers_published([6]) == {6: 0}


async def test_room_no_process_ticks_any_more_is_ignored_after_the_stale_window(make_process):
    # A process published 61 s ago and died: no one has ticked the room since.
    dead = make_process(Clock(time.time() - 61))
    await dead.join(9, "dead.1", None)
    await dead.tick()
    alive = make_process()
    await alive.join(8, "b.1", None)
    await alive.tick()

    assert viewers_published([8, 9]) == {8: 1, 9: 0}


async def test_redis_stale_entries_are_deleted_by_the_reader_fresh_ones_kept():
    dead = Presence(
        redis_backend(), save_peaks=False, run_timer=False, clock=Clock(time.time() - 61)
    )
    await dead.join(9, "dead.1", None)
    await dead.tick()
    alive = Presence(redis_backend(), save_peaks=False, run_timer=False)
    await alive.join(8, "b.1", None)
    await alive.tick()
    before = summary()

    viewers_published([8])
    after = summary()

    assert before["viewers"] == {"8": 1.0, "9": 1.0}
    assert after["viewers"] == {"8": 1.0}
    assert list(after["at"]) == ["8"]


async def test_redis_two_processes_one_publishes_the_rooms_whole_count():
    process_a = Presence(redis_backend(), save_peaks=False, run_timer=False)
    process_b = Presence(redis_backend(), save_peaks=False, run_timer=False)
    await process_a.join(5, "a.1", None)
    await process_b.join(5, "b.1", 11)
    await process_b.join(5, "b.2", None)

    sent_a = await process_a.tick()
    sent_b = await process_b.tick()  # the room's lock is held: b neither sends nor writes
    first = summary()
    await asyncio_sleep_past_lock()
    await process_a.leave(5, "a.1", None)  # a's last socket there: a publishes the room's 2
    after_a_left = viewers_published([5])

    assert [(e["session"], e["count"]) for e in sent_a] == [(5, 3)]
    assert sent_b == []
    assert first["viewers"] == {"5": 3.0}
    assert after_a_left == {5: 2}


async def test_redis_summary_keys_use_the_prefix():
    assert summary_keys("cf") == ("cf:live:viewers", "cf:live:viewers:at")
    process = Presence(redis_backend(), save_peaks=False, run_timer=False)
    await process.join(3, "a.1", None)
    await process.tick()

    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    prefix = settings.REDIS_KEY_PREFIX
    assert client.zscore(f"{prefix}:live:viewers", "3") == 1.0
    assert 0 < client.ttl(f"{prefix}:live:viewers") <= 6 * 60 * 60
    assert 0 < client.ttl(f"{prefix}:live:viewers:at") <= 6 * 60 * 60


async def test_redis_unreachable_reads_zero(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    assert viewers_published([1, 2]) == {1: 0, 2: 0}


async def asyncio_sleep_past_lock() -> None:
    import asyncio

    await asyncio.sleep(0.06)
