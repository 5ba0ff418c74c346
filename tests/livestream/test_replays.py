"""Replays: the recording nginx-rtmp wrote for an ended session becomes an MP4 (ffmpeg
remux, no re-encoding) in ``LiveSession.replay``. Real FLV files made by ffmpeg from a
generated test picture and tone; the real ffmpeg remuxes them."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from livestream import replays, services
from livestream.models import LiveSession
from livestream.replays import recordings_of, session_replay_make
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.livestream.mediaserver import make_test_flv, media_duration, media_streams

pytestmark = pytest.mark.django_db

FLV_SECONDS = 3
READY = LiveSession.ReplayStatus.READY
FAILED = LiveSession.ReplayStatus.FAILED


@pytest.fixture(scope="module")
def test_flv(tmp_path_factory) -> Path:
    """A 3-second H.264/AAC FLV, made once for the module (about half a second)."""
    return make_test_flv(tmp_path_factory.mktemp("flv") / "source.flv", seconds=FLV_SECONDS)


@pytest.fixture
def recordings(tmp_path, settings) -> Path:
    folder = tmp_path / "rec"
    folder.mkdir()
    settings.MEDIA_RECORDINGS_DIR = str(folder)
    return folder


@pytest.fixture(autouse=True)
def _delete_replays():
    """Replays go to the default storage (media-test/ in tests): remove what a test made."""
    yield
    for session in LiveSession.objects.exclude(replay=""):
        session.replay.delete(save=False)


def ended_session(minutes_ago: int = 30, length_minutes: int = 20):
    """A session streamed through the real publish callbacks' services, then moved into
    the past: started ``minutes_ago``, lasted ``length_minutes``."""
    exhibitor = make_exhibitor()
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    session = services.media_publish(public_id=channel.public_id, key=key)
    services.media_publish_done(public_id=channel.public_id, key=key)
    started = timezone.now().replace(microsecond=0) - timedelta(minutes=minutes_ago)
    LiveSession.objects.filter(pk=session.pk).update(
        started_at=started, ended_at=started + timedelta(minutes=length_minutes)
    )
    session.refresh_from_db()
    assert session.status == LiveSession.Status.ENDED
    return session, channel


def place(flv: Path, folder: Path, public_id: str, started) -> Path:
    target = folder / f"{public_id}-{int(started.timestamp())}.flv"
    shutil.copyfile(flv, target)
    return target


def test_session_replay_make_recording_present_saves_faststart_mp4(test_flv, recordings):
    session, channel = ended_session()
    recording = place(test_flv, recordings, channel.public_id, session.started_at)

    assert session_replay_make(session_id=session.pk) == READY

    session.refresh_from_db()
    assert session.replay_status == READY
    stamp = session.started_at.strftime("%Y%m%d-%H%M%S")
    assert session.replay.name.startswith(f"replays/session-{session.pk}-{stamp}")
    assert session.replay.name.endswith(".mp4")
    assert session.recording_path == str(recording)
    path = Path(session.replay.path)
    assert media_streams(path) == ["h264", "aac"]
    assert FLV_SECONDS - 0.5 <= media_duration(path) <= FLV_SECONDS + 0.5
    data = path.read_bytes()
    assert data[4:8] == b"ftyp"
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: playable while loading
    assert recording.exists()  # the media server's file is left alone


def test_session_replay_make_ready_runs_again_changes_nothing(test_flv, recordings, monkeypatch):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)
    assert session_replay_make(session_id=session.pk) == READY
    session.refresh_from_db()
    first_name = session.replay.name

    def no_remux(*args, **kwargs):
        raise AssertionError("a ready replay must not be made again")

    monkeypatch.setattr(replays, "remux_to_mp4", no_remux)

    assert session_replay_make(session_id=session.pk) == READY
    session.refresh_from_db()
    assert (session.replay_status, session.replay.name) == (READY, first_name)


def test_session_replay_make_picks_newest_recording_within_session(test_flv, recordings):
    session, channel = ended_session(minutes_ago=30, length_minutes=20)
    start, end = session.started_at, session.ended_at
    place(test_flv, recordings, channel.public_id, start - timedelta(minutes=5))  # earlier
    place(test_flv, recordings, channel.public_id, start + timedelta(seconds=2))
    reconnect = place(test_flv, recordings, channel.public_id, start + timedelta(minutes=7))
    place(test_flv, recordings, channel.public_id, end + timedelta(minutes=5))  # a later one
    place(test_flv, recordings, "0123456789abcdef", start + timedelta(minutes=8))  # other channel
    (recordings / f"{channel.public_id}-{int(start.timestamp()) + 600}.flv").write_bytes(b"")

    assert session_replay_make(session_id=session.pk) == READY

    session.refresh_from_db()
    assert session.recording_path == str(reconnect)


def test_session_replay_make_recording_slightly_before_start_accepted(test_flv, recordings):
    session, channel = ended_session()
    early = place(
        test_flv, recordings, channel.public_id, session.started_at - timedelta(seconds=30)
    )

    assert session_replay_make(session_id=session.pk) == READY

    session.refresh_from_db()
    assert session.recording_path == str(early)


def test_session_replay_make_no_recording_failed_and_logged(recordings, caplog):
    session, channel = ended_session()
    place_elsewhere = recordings / f"{channel.public_id}-notatime.flv"
    place_elsewhere.write_bytes(b"FLV")

    with caplog.at_level(logging.WARNING, logger="livestream.replays"):
        assert session_replay_make(session_id=session.pk) == FAILED

    session.refresh_from_db()
    assert (session.replay_status, session.replay.name) == (FAILED, "")
    assert f"no recording of channel {channel.public_id}" in caplog.text
    assert f"session {session.pk}" in caplog.text


def test_session_replay_make_recordings_folder_missing_failed(settings, tmp_path):
    settings.MEDIA_RECORDINGS_DIR = str(tmp_path / "no-such-folder")
    session, _channel = ended_session()

    assert session_replay_make(session_id=session.pk) == FAILED


def test_session_replay_make_external_source_failed_without_looking(recordings, caplog):
    exhibitor = make_exhibitor()
    now = timezone.now()
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Cloud stream",
        start=now - timedelta(hours=2),
        end=now - timedelta(hours=1),
        external_hls_url="https://live.example.com/stream.m3u8",
    )
    LiveSession.objects.filter(pk=session.pk).update(
        status=LiveSession.Status.ENDED,
        started_at=now - timedelta(hours=2),
        ended_at=now - timedelta(hours=1),
    )

    with caplog.at_level(logging.WARNING, logger="livestream.replays"):
        assert session_replay_make(session_id=session.pk) == FAILED

    session.refresh_from_db()
    assert session.replay_status == FAILED
    assert "external HLS source" in caplog.text


def test_session_replay_make_broken_recording_failed(recordings, caplog):
    session, channel = ended_session()
    broken = recordings / f"{channel.public_id}-{int(session.started_at.timestamp())}.flv"
    broken.write_bytes(b"this is not a video" * 100)

    with caplog.at_level(logging.WARNING, logger="livestream.replays"):
        assert session_replay_make(session_id=session.pk) == FAILED

    session.refresh_from_db()
    assert (session.replay_status, session.replay.name) == (FAILED, "")
    assert "ffmpeg exited with" in caplog.text


def test_session_replay_make_ffmpeg_too_slow_failed(test_flv, recordings, monkeypatch, caplog):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)
    monkeypatch.setattr(replays, "REMUX_TIMEOUT_SECONDS", 0.001)

    with caplog.at_level(logging.WARNING, logger="livestream.replays"):
        assert session_replay_make(session_id=session.pk) == FAILED

    assert "ffmpeg took longer than" in caplog.text
    session.refresh_from_db()
    assert session.replay_status == FAILED


def test_session_replay_make_ffmpeg_missing_failed(test_flv, recordings, monkeypatch, caplog):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)
    monkeypatch.setattr(replays, "FFMPEG", "/nonexistent/ffmpeg")

    with caplog.at_level(logging.WARNING, logger="livestream.replays"):
        assert session_replay_make(session_id=session.pk) == FAILED

    assert "ffmpeg is not installed" in caplog.text


def test_session_replay_make_storage_error_failed_not_stuck(test_flv, recordings, monkeypatch):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)

    def storage_down(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(session.replay.storage, "save", storage_down)

    assert session_replay_make(session_id=session.pk) == FAILED

    session.refresh_from_db()
    assert (session.replay_status, session.replay.name) == (FAILED, "")


def test_session_replay_make_failed_then_recording_arrives_ready(test_flv, recordings):
    session, channel = ended_session()
    assert session_replay_make(session_id=session.pk) == FAILED
    place(test_flv, recordings, channel.public_id, session.started_at)

    assert session_replay_make(session_id=session.pk) == READY


def test_session_replay_make_live_session_skipped(test_flv, recordings):
    exhibitor = make_exhibitor()
    channel, key = services.stream_key_reveal(user=owner_of(exhibitor), exhibitor_id=exhibitor.pk)
    session = services.media_publish(public_id=channel.public_id, key=key)
    place(test_flv, recordings, channel.public_id, session.started_at)

    assert session_replay_make(session_id=session.pk) == LiveSession.ReplayStatus.NONE

    session.refresh_from_db()
    assert (session.status, session.replay_status) == (LiveSession.Status.LIVE, "none")


def test_session_replay_make_unknown_session_returns_none():
    assert session_replay_make(session_id=987654) == LiveSession.ReplayStatus.NONE


def test_session_replay_make_ready_broadcasts_to_the_room(test_flv, recordings, monkeypatch):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)
    sent = []
    monkeypatch.setattr(
        replays, "send_event_on_commit", lambda group, event: sent.append((group, event))
    )

    session_replay_make(session_id=session.pk)

    assert sent == [
        (
            f"live.{session.pk}",
            {"type": "session.replay", "session": session.pk, "replay_status": "ready"},
        )
    ]


def test_recordings_of_only_this_channel_non_empty_oldest_first(tmp_path):
    (tmp_path / "abc-1800000002.flv").write_bytes(b"x")
    (tmp_path / "abc-1800000001.flv").write_bytes(b"x")
    (tmp_path / "abc-1800000003.flv").write_bytes(b"")  # still empty: skipped
    (tmp_path / "abcd-1800000004.flv").write_bytes(b"x")  # another channel
    (tmp_path / "abc-1800000005.mp4").write_bytes(b"x")
    (tmp_path / "abc.m3u8").write_bytes(b"x")

    found = recordings_of("abc", tmp_path)

    assert [r.path.name for r in found] == ["abc-1800000001.flv", "abc-1800000002.flv"]
    assert found[0].started_at.timestamp() == 1800000001


def test_session_replay_make_processing_elsewhere_skipped(test_flv, recordings, monkeypatch):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)
    LiveSession.objects.filter(pk=session.pk).update(
        replay_status=LiveSession.ReplayStatus.PROCESSING, updated_at=timezone.now()
    )

    def no_remux(*args, **kwargs):
        raise AssertionError("another task is making this replay")

    monkeypatch.setattr(replays, "remux_to_mp4", no_remux)

    assert session_replay_make(session_id=session.pk) == LiveSession.ReplayStatus.PROCESSING

    session.refresh_from_db()
    assert (session.replay_status, session.replay.name) == ("processing", "")


def test_session_replay_make_abandoned_processing_taken_over(test_flv, recordings):
    session, channel = ended_session()
    place(test_flv, recordings, channel.public_id, session.started_at)
    abandoned_at = timezone.now() - replays.PROCESSING_STALE_AFTER - timedelta(minutes=1)
    LiveSession.objects.filter(pk=session.pk).update(
        replay_status=LiveSession.ReplayStatus.PROCESSING, updated_at=abandoned_at
    )

    assert session_replay_make(session_id=session.pk) == READY
