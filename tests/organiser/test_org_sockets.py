"""The notices socket (announcements on every open page, who is online) and the
organisers' dashboard socket, through the real Redis channel layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from fair.announcements import announcement_publish, announcement_withdraw
from fair.asgi import application
from fair.consumers import CLOSE_FORBIDDEN, CLOSE_SIGN_IN
from fair.online import online_count
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db(transaction=True)
SAME_ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    """The organisers group comes from a data migration that the flush between
    transactional tests removes."""
    import importlib

    from django.apps import apps

    from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


async def _open(path: str, user=None) -> WebsocketCommunicator:
    headers = [SAME_ORIGIN]
    if user is not None:
        headers.append(await sync_to_async(_cookie)(user))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected is True
    return socket


async def _close_db() -> None:
    await sync_to_async(connections.close_all)()


async def test_announcement_reaches_open_pages_of_its_audience_only():
    organiser = await sync_to_async(make_organiser)()
    buyer = await sync_to_async(make_buyer)()
    anonymous = await _open("/ws/notices/")
    buyer_page = await _open("/ws/notices/", buyer)
    try:
        publish = sync_to_async(announcement_publish)
        await publish(actor=organiser, title="Buyers: matchmaking at 15:00", audience="buyers")
        frame = await buyer_page.receive_json_from(timeout=3)
        assert frame["type"] == "announcement"
        assert frame["announcement"]["title"] == "Buyers: matchmaking at 15:00"
        assert frame["announcement"]["audience"] == "buyers"
        assert await anonymous.receive_nothing(timeout=0.3) is True

        everyone = await publish(actor=organiser, title="The fair opens in 1 hour")
        for socket in (anonymous, buyer_page):
            frame = await socket.receive_json_from(timeout=3)
            assert frame["announcement"]["title"] == "The fair opens in 1 hour"

        await sync_to_async(announcement_withdraw)(actor=organiser, announcement_id=everyone.pk)
        for socket in (anonymous, buyer_page):
            assert await socket.receive_json_from(timeout=3) == {
                "type": "announcement.withdrawn",
                "id": everyone.pk,
            }
    finally:
        await anonymous.disconnect()
        await buyer_page.disconnect()
        await _close_db()


async def test_signed_in_buyer_with_a_page_open_counts_as_online():
    buyer = await sync_to_async(make_buyer)()
    before = await sync_to_async(online_count)("buyers")
    page = await _open("/ws/notices/", buyer)
    try:
        assert await sync_to_async(online_count)("buyers") == before + 1
    finally:
        await page.disconnect()
        await _close_db()


async def test_dashboard_socket_is_for_organisers_only():
    organiser = await sync_to_async(make_organiser)()
    buyer = await sync_to_async(make_buyer)()
    try:
        socket = await _open("/ws/organiser/", organiser)
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] == "dashboard.figures"
        assert "generated_at" in frame["figures"]
        await socket.send_json_to({"type": "dashboard.refresh"})
        assert (await socket.receive_json_from(timeout=5))["type"] == "dashboard.figures"
        await socket.disconnect()

        for user, code in ((None, CLOSE_SIGN_IN), (buyer, CLOSE_FORBIDDEN)):
            headers = [SAME_ORIGIN]
            if user is not None:
                headers.append(await sync_to_async(_cookie)(user))
            refused = WebsocketCommunicator(application, "/ws/organiser/", headers=headers)
            connected, close_code = await refused.connect()
            assert (connected, close_code) == (False, code)
    finally:
        await _close_db()


async def test_dashboard_socket_needs_the_second_step_when_required(settings):
    settings.MFA_REQUIRED = True
    organiser = await sync_to_async(make_organiser)()
    try:
        headers = [SAME_ORIGIN, await sync_to_async(_cookie)(organiser)]
        refused = WebsocketCommunicator(application, "/ws/organiser/", headers=headers)
        connected, close_code = await refused.connect()
        assert (connected, close_code) == (False, CLOSE_FORBIDDEN)
    finally:
        await _close_db()


async def test_dashboard_socket_closes_when_the_session_times_out_or_the_role_goes():
    """Checked at the handshake and every minute by the session watch (here called
    directly)."""
    import time

    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.cached_db import SessionStore

    from fair.consumers import session_watch
    from fair.models import ORGANISERS_GROUP
    from fair.session_limits import SEEN_AT

    organiser = await sync_to_async(make_organiser)()
    second = await sync_to_async(make_organiser)()
    try:
        cookie = await sync_to_async(_cookie)(organiser)
        idle = WebsocketCommunicator(application, "/ws/organiser/", headers=[SAME_ORIGIN, cookie])
        assert (await idle.connect())[0] is True
        await idle.receive_json_from(timeout=5)
        demoted = await _open("/ws/organiser/", second)
        await demoted.receive_json_from(timeout=5)

        def age_and_demote():
            key = cookie[1].decode().split("=", 1)[1]
            store = SessionStore(session_key=key)
            store[SEEN_AT] = int(time.time()) - 31 * 60
            store.save()
            second.groups.remove(Group.objects.get(name=ORGANISERS_GROUP))

        await sync_to_async(age_and_demote)()
        await session_watch.check()

        assert (await idle.receive_output(timeout=3))["code"] == CLOSE_SIGN_IN
        assert (await demoted.receive_output(timeout=3))["code"] == CLOSE_SIGN_IN
        again = WebsocketCommunicator(application, "/ws/organiser/", headers=[SAME_ORIGIN, cookie])
        assert await again.connect() == (False, CLOSE_SIGN_IN)
    finally:
        await _close_db()
