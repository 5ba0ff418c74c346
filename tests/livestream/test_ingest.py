"""The real ingest path end to end: ffmpeg publishes RTMP to the project's nginx config
(deploy/nginx-rtmp.conf, rendered for loopback ports by tests/livestream/mediaserver.py),
whose callbacks reach Django (Daphne, on the test database) through the config's own
loopback relay adding the shared secret; nginx writes HLS and a recording, which the replay
task turns into an MP4.

The server process and this one share the test database, hence ``transactional_db``."""

from __future__ import annotations

import contextlib
import importlib
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from exhibitors.services import exhibitor_suspend
from livestream import services
from livestream.models import LiveSession, StreamChannel
from livestream.replays import session_replay_make
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_organiser
from tests.livestream.mediaserver import (
    MediaStack,
    media_duration,
    media_stack,
    media_streams,
    stop_push,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "ingest-test-callback-secret-0123456789"
PUSH_SECONDS = 8
PICTURE = "426x240"  # light enough to encode in real time on a loaded 2-core machine
REFUSED_WITHIN = 6.0  # seconds: a refused encoder fails long before its push would end


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory) -> Iterator[MediaStack]:
    """Daphne + the project's nginx, once for this module (about 3 s to start)."""
    with media_stack(secret=SECRET, log_dir=tmp_path_factory.mktemp("ingest")) as running:
        yield running


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    """Rows data migrations load (category tree, organisers group): ``transactional_db``
    empties every table after each test, so they are loaded again (idempotent), as the
    browser tests do (tests/e2e/conftest.py)."""
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, stack=None):
    """Poll ``condition`` every 0.25 s until it returns something truthy (returned)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = f"\n{stack.media.log_tail()}\n{stack.daphne.log_tail()}" if stack else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{logs}")
        time.sleep(0.25)


def session_row(session_id: int) -> dict:
    return LiveSession.objects.values(
        "status", "started_at", "ended_at", "scheduled_end", "replay_status"
    ).get(pk=session_id)


def world_snapshot() -> dict:
    """Every session and channel field a publish could change."""
    return {
        "sessions": list(
            LiveSession.objects.order_by("pk").values(
                "pk", "status", "started_at", "ended_at", "scheduled_end", "is_adhoc"
            )
        ),
        "channels": list(
            StreamChannel.objects.order_by("pk").values("pk", "current_session_id", "key_hash")
        ),
    }


def files_of(folder: Path, public_id: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(public_id))


def live_channel():
    """An approved exhibitor, its channel and key (revealed by its owner, as on the go-live
    page), and a session scheduled around now."""
    exhibitor = make_exhibitor(name="Ingest Test Co")
    owner = owner_of(exhibitor)
    channel, key = services.stream_key_reveal(user=owner, exhibitor_id=exhibitor.pk)
    now = timezone.now()
    session = services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="Factory tour now",
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=1),
    )
    return exhibitor, owner, channel, key, session


def room_path(session: LiveSession) -> str | None:
    """The stream room ``/live/<id>/``; None until its page is wired into the URLs."""
    with contextlib.suppress(NoReverseMatch):
        return reverse("livestream:room", args=[session.pk])
    return None


def test_ingest_valid_key_live_hls_served_then_ended_with_replay(stack, settings):
    settings.MEDIA_RECORDINGS_DIR = str(stack.media.recordings_dir)  # as the server's
    exhibitor, _owner, channel, key, session = live_channel()
    public_id = channel.public_id
    assert key and key not in public_id
    started = time.monotonic()
    push = stack.media.push(public_id, key, seconds=PUSH_SECONDS, size=PICTURE)
    try:
        # Live through the real on_publish callback (nginx -> relay -> Daphne).
        wait_for(
            lambda: session_row(session.pk)["status"] == LiveSession.Status.LIVE,
            timeout=15,
            what="the session to turn live",
            stack=stack,
        )
        channel.refresh_from_db()
        assert channel.current_session_id == session.pk
        assert LiveSession.objects.filter(exhibitor=exhibitor).count() == 1  # no ad-hoc one

        # The playlist is served, named after the public id, and lists segments.
        playlist_url = stack.media.hls_url(public_id)
        assert key not in playlist_url

        def playlist_with_segments():
            status, body, headers = stack.media.fetch(playlist_url)
            text = body.decode(errors="replace")
            return (text, headers) if status == 200 and ".ts" in text else None

        playlist, headers = wait_for(
            playlist_with_segments, timeout=20, what="an HLS playlist with segments", stack=stack
        )
        assert playlist.startswith("#EXTM3U")
        segments = re.findall(r"^(\S+\.ts)$", playlist, flags=re.MULTILINE)
        assert segments and all(name.startswith(f"{public_id}-") for name in segments)
        assert key not in playlist
        assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
        assert headers["Cache-Control"] == "no-cache"
        assert headers["Access-Control-Allow-Origin"] == "*"
        status, segment, segment_headers = stack.media.fetch(
            f"{stack.media.hls_base_url}/{segments[0]}"
        )
        assert status == 200
        assert segment_headers["Content-Type"] == "video/mp2t"
        assert len(segment) > 1000 and segment[0] == 0x47  # MPEG-TS sync byte

        # The room plays the public playlist and shows no key; nor does the booth.
        room = room_path(session)
        if room is not None:
            status, body, _headers = stack.media.fetch(f"{stack.url}{room}")
            assert status == 200
            assert f'data-hls-url="{playlist_url}"' in body.decode()
            assert key not in body.decode()
        booth = reverse("exhibitors:booth", args=[exhibitor.slug])
        status, body, _headers = stack.media.fetch(f"{stack.url}{booth}")
        assert status in (200, 404)  # (404 while the booth is unpublished)
        assert key not in body.decode(errors="replace")
        assert push.poll() is None, "the encoder stopped while the stream should be running"

        # The encoder ends its push: publish-done ends the session.
        assert push.wait(timeout=PUSH_SECONDS + 25) == 0
        wait_for(
            lambda: session_row(session.pk)["status"] == LiveSession.Status.ENDED,
            timeout=15,
            what="the session to end",
            stack=stack,
        )
    finally:
        stop_push(push)
    row = session_row(session.pk)
    assert row["started_at"] is not None and row["ended_at"] > row["started_at"]
    channel.refresh_from_db()
    assert channel.current_session_id is None

    # No file of the media server is named after the key; the recording is there.
    hls_files = files_of(stack.media.hls_dir, public_id)
    recordings = files_of(stack.media.recordings_dir, public_id)
    assert f"{public_id}.m3u8" in hls_files
    assert len(recordings) == 1 and re.fullmatch(rf"{public_id}-\d{{10}}\.flv", recordings[0])
    for name in hls_files + recordings:
        assert key not in name

    # The replay. Publish-done queues the task (eager in tests: Daphne may be making it right
    # now); run it here too: it makes the replay, or finds it made or being made.
    assert session_replay_make(session_id=session.pk) in (
        LiveSession.ReplayStatus.READY,
        LiveSession.ReplayStatus.PROCESSING,
    )
    wait_for(
        lambda: session_row(session.pk)["replay_status"] == LiveSession.ReplayStatus.READY,
        timeout=20,
        what="the replay",
        stack=stack,
    )
    session.refresh_from_db()
    try:
        assert session.replay_status == LiveSession.ReplayStatus.READY
        assert session.replay.name.startswith("replays/session-")
        assert session.recording_path == str(stack.media.recordings_dir / recordings[0])
        replay_path = Path(session.replay.path)
        assert media_streams(replay_path) == ["h264", "aac"]
        assert PUSH_SECONDS - 2.5 <= media_duration(replay_path) <= PUSH_SECONDS + 1.5
    finally:
        session.replay.delete(save=False)

    # Neither server logged the key (nginx runs at the production config's log level).
    assert key not in stack.media.log_text()
    assert key not in stack.daphne.log_path.read_text(errors="replace")
    assert time.monotonic() - started < 40


def refused_push(stack: MediaStack, public_id: str, key: str) -> tuple[int, float]:
    started = time.monotonic()
    push = stack.media.push(public_id, key, seconds=PUSH_SECONDS, size=PICTURE)
    try:
        code = push.wait(timeout=PUSH_SECONDS + 20)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        stop_push(push)
    return code, time.monotonic() - started


def test_ingest_wrong_key_refused_fast_changes_nothing(stack):
    _exhibitor, _owner, channel, key, session = live_channel()
    before = world_snapshot()

    code, elapsed = refused_push(stack, channel.public_id, "x" + key[1:])

    assert code not in (0, None)
    assert elapsed < REFUSED_WITHIN
    assert world_snapshot() == before
    assert session_row(session.pk)["status"] == LiveSession.Status.SCHEDULED
    assert files_of(stack.media.hls_dir, channel.public_id) == []
    assert files_of(stack.media.recordings_dir, channel.public_id) == []


def test_ingest_rotated_old_key_refused_fast_changes_nothing(stack):
    exhibitor, owner, channel, old_key, session = live_channel()
    _channel, new_key = services.stream_key_rotate(user=owner, exhibitor_id=exhibitor.pk)
    assert new_key != old_key
    before = world_snapshot()

    code, elapsed = refused_push(stack, channel.public_id, old_key)

    assert code not in (0, None)
    assert elapsed < REFUSED_WITHIN
    assert world_snapshot() == before
    assert session_row(session.pk)["status"] == LiveSession.Status.SCHEDULED
    assert files_of(stack.media.hls_dir, channel.public_id) == []


def test_ingest_suspended_exhibitor_key_refused_changes_nothing(stack):
    exhibitor, _owner, channel, key, _session = live_channel()
    exhibitor_suspend(actor=make_organiser(), exhibitor_id=exhibitor.pk, reason="Test")
    before = world_snapshot()

    code, elapsed = refused_push(stack, channel.public_id, key)

    assert code not in (0, None)
    assert elapsed < REFUSED_WITHIN
    assert world_snapshot() == before
