"""The websocket half of the permission matrix (SECURITY A1, A3): every route's every
client action x every role, as data. A consumer action without a row fails the suite.

Each case connects with the role's session cookie and a same-site Origin, sends the action
and checks the answer: ``ok`` means the action's own reply type, ``forbidden`` an error frame
with that code; no reply of another room's data ever arrives."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from fair.asgi import application
from fair.routing import websocket_urlpatterns
from tests.e2e.conftest import REFERENCE_DATA_MIGRATIONS
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.authz]

ROLES = ("anon", "buyer", "owner", "admin", "sales", "other", "organiser")
STAFF = {"owner", "admin", "sales"}
SAME_ORIGIN = (b"origin", b"http://testserver")

# (route pattern, client message type) -> {role: "ok" | "forbidden"}; ``reply`` is the frame
# type an allowed call answers with.
WS_MATRIX: dict[tuple[str, str], dict] = {
    ("ws/health/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/live/programme/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/live/<int:session_id>/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/live/<int:session_id>/", "viewers.list"): {
        "reply": "viewers.list",
        **{role: "ok" if role in STAFF else "forbidden" for role in ROLES},
    },
}


def _routes() -> dict[str, type]:
    return {str(route.pattern): route.callback.consumer_class for route in websocket_urlpatterns}


def test_ws_matrix_covers_every_consumer_action():
    handled = {
        (pattern, action) for pattern, consumer in _routes().items() for action in consumer.actions
    }
    assert sorted(handled - set(WS_MATRIX)) == []
    assert sorted(set(WS_MATRIX) - handled) == []


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


def _world() -> dict:
    from livestream import services

    exhibitor = make_exhibitor()
    start = timezone.now() + timedelta(hours=1)
    session = services.session_schedule(
        user=owner_of(exhibitor),
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
    )
    users = {
        "anon": None,
        "buyer": make_buyer(),
        "owner": owner_of(exhibitor),
        "admin": add_member(exhibitor, "admin"),
        "sales": add_member(exhibitor, "sales"),
        "other": owner_of(make_exhibitor(name="Other Co")),
        "organiser": make_organiser(),
    }
    cookies = {}
    for role, user in users.items():
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies[role] = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())
    return {"session": session.pk, "cookies": cookies}


def _cases():
    for (pattern, action), expect in WS_MATRIX.items():
        for role in ROLES:
            yield pytest.param(pattern, action, expect, role, id=f"{pattern} {action} as {role}")


@pytest.mark.parametrize(("pattern", "action", "expect", "role"), list(_cases()))
async def test_ws_matrix(pattern, action, expect, role):
    world = await sync_to_async(_world)()
    path = "/" + pattern.replace("<int:session_id>", str(world["session"]))
    headers = [SAME_ORIGIN]
    if role in world["cookies"]:
        headers.append(world["cookies"][role])
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected is True
    try:
        await socket.send_json_to({"type": action})
        wanted = expect["reply"] if expect[role] == "ok" else "error"
        for _attempt in range(5):  # greeting frames (room.joined, viewers) may come first
            frame = await socket.receive_json_from(timeout=3)
            if frame["type"] in (wanted, "error"):
                break
        assert frame["type"] == wanted, frame
        if expect[role] == "forbidden":
            assert frame["code"] == "forbidden"
    finally:
        await socket.disconnect()
