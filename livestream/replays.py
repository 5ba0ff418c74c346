"""Replays: when a stream ends, the media server's recording becomes the session's replay.

nginx-rtmp records every publish (``record all; record_unique on;`` in
deploy/nginx-rtmp.conf) to ``<MEDIA_RECORDINGS_DIR>/<public-channel-id>-<unix time>.flv``.
``session_replay_make`` finds the recording of one ended session, remuxes it to MP4 with
ffmpeg (no re-encoding: ``-c copy -movflags +faststart``, so a browser can start playing
before the whole file has arrived) and stores it in ``LiveSession.replay`` (default storage).

The task is idempotent (a redelivered or repeated task does nothing once the replay is
ready) and never raises for a missing or broken recording: it marks the replay failed and
logs why, so the broker never redelivers it in a loop. File names carry the public channel
id only, never a stream key.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from fair.realtime import live_session_group, send_event_on_commit

logger = logging.getLogger(__name__)

#: A recording may start this long before the session's ``started_at`` (clocks, the time
#: the publish callback took) or after its ``ended_at`` and still belong to it.
RECORDING_SLACK = timedelta(seconds=60)
#: The longest a remux may take; ``-c copy`` of a 12-hour session is mostly disk reading.
REMUX_TIMEOUT_SECONDS = 60 * 60
#: A replay marked processing for longer than this was abandoned (its worker died): a
#: redelivered task may take it over. Until then a second task leaves it alone.
PROCESSING_STALE_AFTER = timedelta(seconds=REMUX_TIMEOUT_SECONDS + 10 * 60)
FFMPEG = "ffmpeg"


@dataclass(frozen=True)
class Recording:
    path: Path
    started_at: datetime


def recording_pattern(public_id: str) -> re.Pattern[str]:
    """``<public id>-<unix time>.flv``, the name ``record_unique on`` gives each publish."""
    return re.compile(rf"^{re.escape(public_id)}-(\d{{9,11}})\.flv$")


def recordings_of(public_id: str, directory: Path | None = None) -> list[Recording]:
    """Every recording of a channel, oldest first (empty files left out)."""
    folder = Path(directory or settings.MEDIA_RECORDINGS_DIR)
    pattern = recording_pattern(public_id)
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file() or entry.stat().st_size == 0:
                continue
        except OSError:
            continue
        found.append(
            Recording(path=entry, started_at=datetime.fromtimestamp(int(match[1]), tz=UTC))
        )
    return sorted(found, key=lambda recording: (recording.started_at, recording.path.name))


def recording_for(session, public_id: str, directory: Path | None = None) -> Recording | None:
    """The newest recording of the channel that started within the session (from
    ``started_at`` minus the slack to ``ended_at`` plus the slack): a later session's
    recording is never taken for an earlier one, even when this task runs late."""
    if session.started_at is None:
        return None
    earliest = session.started_at - RECORDING_SLACK
    latest = (session.ended_at or timezone.now()) + RECORDING_SLACK
    matching = [
        recording
        for recording in recordings_of(public_id, directory)
        if earliest <= recording.started_at <= latest
    ]
    return matching[-1] if matching else None


class RemuxError(Exception):
    pass


def remux_to_mp4(source: Path, target: Path, *, timeout: float | None = None) -> None:
    """``ffmpeg -i <flv> -c copy -movflags +faststart <mp4>``: no shell, bounded in time
    (``REMUX_TIMEOUT_SECONDS`` unless given)."""
    timeout = REMUX_TIMEOUT_SECONDS if timeout is None else timeout
    command = [
        FFMPEG,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(source),
        "-map",
        "0",
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(target),
    ]
    try:
        result = subprocess.run(  # noqa: S603 (fixed program, no shell, paths as arguments)
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise RemuxError("ffmpeg is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise RemuxError(f"ffmpeg took longer than {timeout:.0f} s") from exc
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()[-500:]
        raise RemuxError(f"ffmpeg exited with {result.returncode}: {message}")
    if not target.exists() or target.stat().st_size == 0:
        raise RemuxError("ffmpeg wrote no output")


def _claim(session_id: int):
    """Lock the session and mark its replay as processing; None when there is nothing to do
    (no such session, not ended yet, the replay is ready already or another task is making
    it right now)."""
    from livestream.models import LiveSession

    with transaction.atomic():
        session = LiveSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None:
            logger.info("replay skipped: no session %s", session_id)
            return None
        if session.replay_status == LiveSession.ReplayStatus.READY:
            return None
        if (
            session.replay_status == LiveSession.ReplayStatus.PROCESSING
            and session.updated_at > timezone.now() - PROCESSING_STALE_AFTER
        ):
            logger.info("replay skipped: session %s is being processed", session_id)
            return None
        if session.status != LiveSession.Status.ENDED:
            logger.info("replay skipped: session %s has not ended", session_id)
            return None
        session.replay_status = LiveSession.ReplayStatus.PROCESSING
        session.save(update_fields=["replay_status", "updated_at"])
        return session


def _finish(session_id: int, status: str, **fields) -> None:
    from livestream.models import LiveSession

    LiveSession.objects.filter(pk=session_id).update(
        replay_status=status, updated_at=timezone.now(), **fields
    )


def _fail(session_id: int, reason: str) -> str:
    from livestream.models import LiveSession

    logger.warning("replay failed for session %s: %s", session_id, reason)
    _finish(session_id, LiveSession.ReplayStatus.FAILED)
    return LiveSession.ReplayStatus.FAILED


@shared_task
def session_replay_make(*, session_id: int) -> str:
    """Make the replay of an ended session from its recording. Returns the replay status
    ("ready", "failed"), or the current one when there was nothing to do ("ready" already,
    "processing" by another task, "none" for a session that has not ended)."""
    from livestream.models import LiveSession, StreamChannel

    session = _claim(session_id)
    if session is None:
        statuses = LiveSession.objects.filter(pk=session_id).values_list("replay_status")
        current = statuses.first()
        return current[0] if current else LiveSession.ReplayStatus.NONE
    if session.source != LiveSession.Source.RTMP:
        return _fail(session_id, "the session streamed from an external HLS source")
    public_id = (
        StreamChannel.objects.filter(exhibitor_id=session.exhibitor_id)
        .values_list("public_id", flat=True)
        .first()
    )
    if public_id is None:
        return _fail(session_id, "the exhibitor has no stream channel")
    recording = recording_for(session, public_id)
    if recording is None:
        return _fail(
            session_id,
            f"no recording of channel {public_id} in {settings.MEDIA_RECORDINGS_DIR} "
            "for the session's time",
        )
    with tempfile.TemporaryDirectory(prefix="cloudfair-replay-") as work:
        target = Path(work) / "replay.mp4"
        try:
            remux_to_mp4(recording.path, target)
        except RemuxError as exc:
            return _fail(session_id, f"{recording.path.name}: {exc}")
        stamp = recording.started_at.strftime("%Y%m%d-%H%M%S")
        try:
            with target.open("rb") as handle:
                # The file only (save=False): the row is updated below, with no lock held
                # during the upload.
                session.replay.save(f"session-{session.pk}-{stamp}.mp4", File(handle), save=False)
        except Exception as exc:  # storage down or full: a failed replay, not a stuck one
            logger.exception("replay upload failed for session %s", session_id)
            return _fail(session_id, f"the replay could not be stored ({type(exc).__name__})")
    _finish(
        session_id,
        LiveSession.ReplayStatus.READY,
        replay=session.replay.name,
        recording_path=str(recording.path)[:500],
    )
    logger.info("replay ready for session %s from %s", session_id, recording.path.name)
    # The stream room switches to the replay without a reload (robust: a channel layer that
    # is down is logged, the replay is ready anyway).
    send_event_on_commit(
        live_session_group(session_id),
        {"type": "session.replay", "session": session_id, "replay_status": "ready"},
    )
    return LiveSession.ReplayStatus.READY
