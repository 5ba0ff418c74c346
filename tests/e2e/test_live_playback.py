"""A buyer watches a live stream in Debian's Chromium: ffmpeg publishes a generated test
picture and tone through the project's real nginx (deploy/nginx-rtmp.conf, rendered by
tests/livestream/mediaserver.py), Django takes the publish callback, and the stream room's
player (static/livestream/js/player.js with hls.js) plays the HLS playlist nginx writes.

The room is served by a Daphne of this test (``media_stack``): it needs the callback secret
and ``MEDIA_HLS_URL`` pointing at this test's nginx, which the session-wide server of
tests/e2e/conftest.py does not have. Cookies on 127.0.0.1 are shared by both servers (same
database, Redis and SECRET_KEY)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from livestream import services
from livestream.models import LiveSession
from tests.e2e.conftest import BrowserProblems
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import PASSWORD, make_buyer
from tests.livestream.mediaserver import MediaStack, media_stack, stop_push

pytestmark = pytest.mark.e2e

SECRET = "playback-test-callback-secret-0123456789"
PUSH_SECONDS = 25  # long enough for page load plus a few seconds of playback
PICTURE = "426x240"
VIDEO = "[data-player] video"


@pytest.fixture
def stack(live_server_url, tmp_path) -> Iterator[MediaStack]:
    """Daphne + nginx for this test, set up after (so torn down before) the test database
    fixtures, and before the browser page (so the page closes first)."""
    with media_stack(secret=SECRET, log_dir=tmp_path) as running:
        yield running


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    stack: MediaStack,
    problems: BrowserProblems | None = None,
):
    """Poll ``condition`` every 0.25 s until it returns something truthy (returned); on
    timeout fail with what the browser, nginx and Daphne reported."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"browser: {problems}\n" if problems is not None else ""
            pytest.fail(
                f"timed out after {timeout:.0f} s waiting for {what}\n{seen}"
                f"{stack.media.log_tail()}\n{stack.daphne.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.25)


def video_state(page: Page) -> dict:
    return page.evaluate(
        """(selector) => {
            const video = document.querySelector(selector);
            if (!video) return null;
            return {
                currentTime: video.currentTime,
                paused: video.paused,
                readyState: video.readyState,
                muted: video.muted,
                error: video.error && video.error.code,
            };
        }""",
        VIDEO,
    )


def replay_tidy(session_id: int, timeout: float = 10.0) -> None:
    """Once the push has stopped, publish-done ends the session and (eager in tests) may
    make its replay in media-test/: delete that file (the rows go with transactional_db)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session = LiveSession.objects.filter(pk=session_id).first()
        if session is None or session.status == LiveSession.Status.ENDED:
            break
        time.sleep(0.25)
    for session in LiveSession.objects.filter(pk=session_id).exclude(replay=""):
        session.replay.delete(save=False)


def test_live_room_buyer_sees_stream_playing(stack, page: Page, browser_problems):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    channel, key = services.stream_key_reveal(user=owner, exhibitor_id=exhibitor.pk)
    now = timezone.now()
    session = services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="LED lanterns launch",
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=1),
        kind=LiveSession.Kind.LAUNCH,
    )
    buyer = make_buyer(full_name="Anne Buyer")
    room_path = reverse("livestream:room", args=[session.pk])
    push = stack.media.push(channel.public_id, key, seconds=PUSH_SECONDS, size=PICTURE)
    try:
        # The stream is up: live through the real callback, segments in the playlist.
        wait_for(
            lambda: LiveSession.objects.get(pk=session.pk).status == LiveSession.Status.LIVE,
            timeout=15,
            what="the session to turn live",
            stack=stack,
        )
        playlist_url = stack.media.hls_url(channel.public_id)
        wait_for(
            lambda: stack.media.fetch(playlist_url)[1].count(b".ts") >= 2,
            timeout=20,
            what="two HLS segments",
            stack=stack,
        )

        # The buyer logs in (the first page of a browser session reloads once to report the
        # browser's time zone: wait for it) and opens the room.
        page.goto(f"{stack.url}/accounts/login/?next={room_path}")
        expect(page.locator("body")).to_have_attribute(
            "data-time-zone-source", re.compile(r"^(browser|profile)$")
        )
        page.get_by_label(re.compile(r"^Email:?$")).fill(buyer.email)
        page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{stack.url}{room_path}")
        expect(page.get_by_role("heading", level=1, name="LED lanterns launch")).to_be_visible()
        player = page.locator("[data-player]")
        expect(player).to_have_attribute("data-hls-url", playlist_url)
        expect(page.locator(VIDEO)).to_be_visible()

        # The player plays: currentTime advances by more than a second within a few.
        first = wait_for(
            lambda: (state := video_state(page)) and state["currentTime"] > 0 and state,
            timeout=20,
            what="the video to start playing",
            stack=stack,
            problems=browser_problems,
        )
        wait_for(
            lambda: video_state(page)["currentTime"] >= first["currentTime"] + 1.5,
            timeout=10,
            what="the video's currentTime to advance",
            stack=stack,
            problems=browser_problems,
        )
        state = video_state(page)
        assert state["paused"] is False
        assert state["error"] is None
        assert state["readyState"] >= 2  # HAVE_CURRENT_DATA
        assert push.poll() is None, "the encoder stopped during the test"

        # The key is nowhere in the room.
        assert key not in page.content()
        assert channel.public_id in playlist_url
        browser_problems.assert_none()
    finally:
        stop_push(push)
        replay_tidy(session.pk)
