"""Stopping streams for real: ffmpeg publishes to the project's nginx config (rendered by
tests/livestream/mediaserver.py), Django runs in Daphne on the test database, and

* a suspension ends the company's session at once; without a control endpoint the media
  server's ``on_update`` callback drops the encoder within one update interval (10 s); the
  key is refused while suspended and accepted again once reinstated;
* an organiser's "stop" drops the encoder at once through nginx-rtmp's control endpoint
  (``MEDIA_CONTROL_URL``);
* a key rotated mid-stream cuts the encoder at its next update.

The server process and this one share the test database, hence ``transactional_db``."""

from __future__ import annotations

import importlib
import subprocess
import time
from collections.abc import Iterator

import pytest

from exhibitors.services import exhibitor_reinstate, exhibitor_suspend
from fair.models import AuditEntry
from livestream import services
from livestream.models import LiveSession, StreamChannel
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.factories import make_organiser
from tests.livestream.mediaserver import MediaStack, media_stack, stop_push
from tests.livestream.test_ingest import (
    PICTURE,
    REFUSED_WITHIN,
    live_channel,
    refused_push,
    session_row,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "stream-stop-test-callback-secret-0123"
LONG_PUSH = 60  # seconds: far longer than any stop may take
UPDATE_INTERVAL = 10  # notify_update_timeout in deploy/nginx-rtmp.conf
DROPPED_WITHIN_UPDATE = UPDATE_INTERVAL + 4  # one interval, plus the callback's round trip
DROPPED_AT_ONCE = 4.0


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory) -> Iterator[MediaStack]:
    with media_stack(secret=SECRET, log_dir=tmp_path_factory.mktemp("stop")) as running:
        yield running


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
def _settings(settings, stack):
    # This process runs the stop and its Celery tasks (eagerly): configured as the server.
    settings.MEDIA_STREAM_CALLBACK_SECRET = SECRET
    settings.MEDIA_CONTROL_URL = ""
    settings.MEDIA_RECORDINGS_DIR = str(stack.media.recordings_dir)


def _settled(stack: MediaStack, exhibitor_id: int) -> None:
    """No session of the company is live any more: the server's publish-done has run (the
    database is emptied after each test; the server must not be writing then)."""
    wait_for(
        lambda: not LiveSession.objects.filter(exhibitor_id=exhibitor_id, status="live").exists(),
        timeout=15,
        what="publish-done to end the session",
        stack=stack,
    )
    time.sleep(1)  # the replay task the server queued on that commit


def _running(stack: MediaStack, public_id: str, key: str, session_id: int):
    push = stack.media.push(public_id, key, seconds=LONG_PUSH, size=PICTURE)
    wait_for(
        lambda: session_row(session_id)["status"] == LiveSession.Status.LIVE,
        timeout=20,
        what="the session to turn live",
        stack=stack,
    )
    # HLS output proves the media server is really receiving the stream.
    wait_for(
        lambda: (stack.media.hls_dir / f"{public_id}.m3u8").exists(),
        timeout=20,
        what="the HLS playlist",
        stack=stack,
    )
    return push


def _exit_within(push: subprocess.Popen, seconds: float, stack: MediaStack) -> float:
    started = time.monotonic()
    try:
        push.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        stop_push(push)
        pytest.fail(
            f"the encoder was still publishing {seconds:.0f} s later\n"
            f"{stack.media.log_tail()}\n{stack.daphne.log_tail()}"
        )
    return time.monotonic() - started


def test_suspension_drops_publisher_at_next_update_refuses_key_until_reinstated(stack):
    exhibitor, _owner, channel, key, session = live_channel()
    organiser = make_organiser()
    push = _running(stack, channel.public_id, key, session.pk)
    try:
        exhibitor_suspend(actor=organiser, exhibitor_id=exhibitor.pk, reason="Counterfeits")

        # Ended at once by the receiver, before the media server has done anything.
        row = session_row(session.pk)
        assert row["status"] == LiveSession.Status.ENDED and row["ended_at"] is not None
        # No control endpoint configured: on_update refuses the encoder within 10 s.
        elapsed = _exit_within(push, DROPPED_WITHIN_UPDATE, stack)
    finally:
        stop_push(push)
    assert push.returncode != 0
    assert elapsed < DROPPED_WITHIN_UPDATE
    assert StreamChannel.objects.get(pk=channel.pk).current_session_id is None
    assert list(
        AuditEntry.objects.filter(action="stream.stop").values_list("actor_id", "target_id")
    ) == [(organiser.pk, str(session.pk))]

    # Suspended: the same key is refused at publish.
    code, took = refused_push(stack, channel.public_id, key)
    assert code not in (0, None) and took < REFUSED_WITHIN
    assert LiveSession.objects.filter(exhibitor=exhibitor, status="live").count() == 0

    # Reinstated: the key works again (an ad-hoc "live now" session opens).
    exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)
    again = stack.media.push(channel.public_id, key, seconds=LONG_PUSH, size=PICTURE)
    try:
        live = wait_for(
            lambda: LiveSession.objects.filter(exhibitor=exhibitor, status="live").first(),
            timeout=20,
            what="a live session after reinstatement",
            stack=stack,
        )
        assert live.pk != session.pk and live.is_adhoc
        time.sleep(UPDATE_INTERVAL + 2)  # survives an update: the callback accepts it
        assert again.poll() is None
    finally:
        stop_push(again)
    _settled(stack, exhibitor.pk)


def test_organiser_stop_drops_publisher_at_once_through_the_control_endpoint(stack, settings):
    settings.MEDIA_CONTROL_URL = stack.media.control_url
    exhibitor, _owner, channel, key, session = live_channel()
    organiser = make_organiser()
    push = _running(stack, channel.public_id, key, session.pk)
    try:
        services.session_stream_stop(actor=organiser, session_id=session.pk, reason="Test")
        elapsed = _exit_within(push, DROPPED_AT_ONCE + UPDATE_INTERVAL, stack)
    finally:
        stop_push(push)
    assert elapsed < DROPPED_AT_ONCE, f"dropped after {elapsed:.1f} s: not by the control call"
    assert session_row(session.pk)["status"] == LiveSession.Status.ENDED
    entry = AuditEntry.objects.get(action="stream.stop")
    assert (entry.actor_id, entry.reason) == (organiser.pk, "Test")
    _settled(stack, exhibitor.pk)


def test_control_endpoint_refuses_a_wrong_secret(stack):
    exhibitor, _owner, channel, key, session = live_channel()
    push = _running(stack, channel.public_id, key, session.pk)
    try:
        url = f"{stack.media.control_url}/drop/publisher?app=live&name={channel.public_id}"
        status, _body, _headers = stack.media.fetch(url)  # no secret header
        assert status == 403
        assert push.poll() is None
        record = stack.media.fetch(
            f"http://127.0.0.1:{stack.media.control_port}/control/record/start?app=live"
        )
        assert record[0] == 404  # only "drop publisher" is offered
    finally:
        stop_push(push)
    _settled(stack, exhibitor.pk)


def test_key_rotated_mid_stream_cuts_the_encoder_at_its_next_update(stack):
    exhibitor, owner, channel, key, session = live_channel()
    push = _running(stack, channel.public_id, key, session.pk)
    try:
        services.stream_key_rotate(user=owner, exhibitor_id=exhibitor.pk)
        elapsed = _exit_within(push, DROPPED_WITHIN_UPDATE, stack)
    finally:
        stop_push(push)
    assert elapsed < DROPPED_WITHIN_UPDATE
    # publish-done ended the session through the normal path.
    wait_for(
        lambda: session_row(session.pk)["status"] == LiveSession.Status.ENDED,
        timeout=10,
        what="the session to end",
        stack=stack,
    )
    _settled(stack, exhibitor.pk)
