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

# (route pattern, client message type) -> {role: "ok" | "forbidden" | "sign_in"}; ``reply``
# is the frame type an allowed call answers with, ``payload`` the rest of the message.
SIGNED_IN_OK = {role: "sign_in" if role == "anon" else "ok" for role in ROLES}
MODERATORS = {
    role: "sign_in" if role == "anon" else "ok" if role in STAFF | {"organiser"} else "forbidden"
    for role in ROLES
}
WS_MATRIX: dict[tuple[str, str], dict] = {
    ("ws/health/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/live/programme/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/live/<int:session_id>/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/live/<int:session_id>/", "viewers.list"): {
        "reply": "viewers.list",
        **{role: "ok" if role in STAFF else "forbidden" for role in ROLES},
    },
    # The stream room's chat. "sign_in": an error frame with code sign_in_required.
    ("ws/live/<int:session_id>/", "chat.send"): {
        "reply": "chat.ack",
        "payload": {"client_id": "matrix-0001", "body": "Can it ship in Q3?"},
        **SIGNED_IN_OK,
    },
    ("ws/live/<int:session_id>/", "chat.resume"): {
        "reply": "chat.history",
        "payload": {"after": 0},
        **dict.fromkeys(ROLES, "ok"),
    },
    ("ws/live/<int:session_id>/", "chat.report"): {
        "reply": "chat.reported",
        "payload": {"seq": 1, "reason": "spam"},
        **SIGNED_IN_OK,
    },
    ("ws/live/<int:session_id>/", "react"): {
        "reply": "react.ack",
        "payload": {"kind": "like"},
        **SIGNED_IN_OK,
    },
    ("ws/live/<int:session_id>/", "chat.questions"): {"reply": "chat.questions", **MODERATORS},
    ("ws/live/<int:session_id>/", "chat.answer"): {
        "reply": "chat.answered",
        "payload": {"seq": 1},
        **MODERATORS,
    },
    ("ws/live/<int:session_id>/", "chat.pin"): {
        "reply": "chat.pinned",
        "payload": {"seq": 1},
        **MODERATORS,
    },
    ("ws/live/<int:session_id>/", "chat.hide"): {
        "reply": "chat.hidden",
        "payload": {"seq": 1},
        **MODERATORS,
    },
    ("ws/live/<int:session_id>/", "chat.unhide"): {
        "reply": "chat.unhidden",
        "payload": {"seq": 1},
        **MODERATORS,
    },
    ("ws/live/<int:session_id>/", "chat.slow_mode"): {
        "reply": "chat.slow_mode",
        "payload": {"seconds": 10},
        **MODERATORS,
    },
    ("ws/live/<int:session_id>/", "chat.mute"): {
        "reply": "chat.restricted",
        "payload": {"seq": 1, "minutes": 10},
        **MODERATORS,
    },
    ("ws/live/<int:session_id>/", "chat.ban"): {
        "reply": "chat.restricted",
        "payload": {"seq": 1},
        **MODERATORS,
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
    # Message 1 of the room: a question by a buyer who is none of the roles.
    from livestream import chat

    poster = make_buyer()
    chat.chat_message_send(
        session_id=session.pk,
        identity=chat.chat_identity(user=poster, exhibitor_id=exhibitor.pk, is_staff=False),
        client_id="matrix-poster-1",
        body="Is there a discount for 1,000 units?",
        is_question=True,
    )
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
        await socket.send_json_to({"type": action, **expect.get("payload", {})})
        wanted = expect["reply"] if expect[role] == "ok" else "error"
        frame = await _first_of(socket, wanted)
        assert frame["type"] == wanted, frame
        if expect[role] == "forbidden":
            assert frame["code"] == "forbidden"
        if expect[role] == "sign_in":
            assert frame["code"] == "sign_in_required"
    finally:
        await socket.disconnect()


async def _first_of(socket, wanted: str) -> dict:
    """The first frame of type ``wanted`` or ``error``, skipping greetings (room.joined,
    viewers, chat.history) and unpacking batched broadcasts."""
    for _attempt in range(10):
        frame = await socket.receive_json_from(timeout=3)
        frames = frame["events"] if frame["type"] == "batch" else [frame]
        for one in frames:
            if one["type"] in (wanted, "error"):
                return one
    raise AssertionError(f"no {wanted} frame")


# --- /ws/negotiations/ -----------------------------------------------------------------------
# Added after ``test_ws_matrix`` was parametrized on purpose: this socket refuses anonymous
# visitors at connect (the generic test expects every role to connect) and its actions name
# a room, so its rows run in ``test_ws_matrix_negotiations`` below. They are in WS_MATRIX for
# the completeness test. "not_found" = the error a non-party gets, the same as for a missing
# room; ``reply`` None = the action answers nothing to the sender (typing).

NEGO_PARTIES = {"buyer", *STAFF}
NEGO_WS_ROWS: dict[str, dict] = {
    "ping": {"reply": "pong", **{r: "ok" for r in ROLES if r != "anon"}},
    "nego.send": {
        "reply": "nego.ack",
        **{r: "ok" if r in NEGO_PARTIES else "not_found" for r in ROLES if r != "anon"},
    },
    "nego.resume": {
        "reply": "nego.history",
        **{r: "ok" if r in NEGO_PARTIES else "not_found" for r in ROLES if r != "anon"},
    },
    "nego.typing": {
        "reply": None,
        **{r: "ok" if r in NEGO_PARTIES else "not_found" for r in ROLES if r != "anon"},
    },
    "nego.read": {
        "reply": "nego.read",
        **{r: "ok" if r in NEGO_PARTIES else "not_found" for r in ROLES if r != "anon"},
    },
}
for _action, _expect in NEGO_WS_ROWS.items():
    WS_MATRIX[("ws/negotiations/", _action)] = {**_expect, "anon": "refused"}


def _nego_world() -> dict:
    from negotiations import services as nego_services

    exhibitor = make_exhibitor(name="Nego Co")
    buyer, owner = make_buyer(), owner_of(exhibitor)
    users = {
        "buyer": buyer,
        "owner": owner,
        "admin": add_member(exhibitor, "admin"),
        "sales": add_member(exhibitor, "sales"),
        "other": owner_of(make_exhibitor(name="Other Nego Co")),
        "organiser": make_organiser(),
    }
    room, _created = nego_services.negotiation_open(buyer=buyer, exhibitor_id=exhibitor.pk)
    nego_services.message_send(
        user=buyer, negotiation_id=room.pk, client_id="ws-matrix-1", body="Matrix secret 77"
    )
    nego_services.message_send(
        user=owner, negotiation_id=room.pk, client_id="ws-matrix-2", body="Matrix secret 78"
    )
    # Two system messages (seq 4, 5): unread on both sides, so reading up to 5 moves either
    # side's marker.
    nego_services.negotiation_close(user=owner, negotiation_id=room.pk)
    nego_services.negotiation_reopen(user=owner, negotiation_id=room.pk)
    cookies = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies[role] = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())
    return {"room": room.pk, "cookies": cookies}


def _nego_frame(action: str, room: int) -> dict:
    return {
        "ping": {"type": "ping"},
        "nego.send": {
            "type": "nego.send",
            "negotiation": room,
            "client_id": "ws-matrix-send-1",
            "body": "hello",
        },
        "nego.resume": {"type": "nego.resume", "negotiation": room, "after": 0},
        "nego.typing": {"type": "nego.typing", "negotiation": room},
        "nego.read": {"type": "nego.read", "negotiation": room, "seq": 5},
    }[action]


def _nego_cases():
    for action in NEGO_WS_ROWS:
        for role in ROLES:
            yield pytest.param(action, role, id=f"ws/negotiations/ {action} as {role}")


@pytest.mark.parametrize(("action", "role"), list(_nego_cases()))
async def test_ws_matrix_negotiations(action, role):
    world = await sync_to_async(_nego_world)()
    expect = WS_MATRIX[("ws/negotiations/", action)]
    headers = [SAME_ORIGIN]
    if role in world["cookies"]:
        headers.append(world["cookies"][role])
    socket = WebsocketCommunicator(application, "/ws/negotiations/", headers=headers)
    connected, _ = await socket.connect()
    if expect[role] == "refused":
        assert connected is False
        return
    assert connected is True
    try:
        ready = await socket.receive_json_from(timeout=3)
        assert ready["type"] == "nego.ready"
        await socket.send_json_to(_nego_frame(action, world["room"]))
        if expect[role] == "ok" and expect["reply"] is None:
            assert await socket.receive_nothing(timeout=0.5) is True
            return
        frame = await socket.receive_json_from(timeout=3)
        if expect[role] == "ok":
            assert frame["type"] == expect["reply"], frame
        else:
            assert (frame["type"], frame["code"]) == ("error", "not_found"), frame
            assert "Matrix secret" not in str(frame)
            assert await socket.receive_nothing(timeout=0.3) is True
    finally:
        await socket.disconnect()


# --- /ws/notices/ and /ws/organiser/ (issue 7) -----------------------------------------------
# Every page holds /ws/notices/ (announcements), anonymous visitors included. /ws/organiser/
# (the live dashboard) refuses everyone but organisers at the handshake: 4401 for anonymous
# visitors, 4403 for the others.

ORG_WS_ROWS: dict[tuple[str, str], dict] = {
    ("ws/notices/", "ping"): {"reply": "pong", **dict.fromkeys(ROLES, "ok")},
    ("ws/organiser/", "ping"): {
        "reply": "pong",
        **{r: "ok" if r == "organiser" else "refused" for r in ROLES},
    },
    ("ws/organiser/", "dashboard.refresh"): {
        "reply": "dashboard.figures",
        **{r: "ok" if r == "organiser" else "refused" for r in ROLES},
    },
}
WS_MATRIX.update(ORG_WS_ROWS)


def _org_cases():
    for (pattern, action), expect in ORG_WS_ROWS.items():
        for role in ROLES:
            yield pytest.param(pattern, action, expect, role, id=f"{pattern} {action} as {role}")


@pytest.mark.parametrize(("pattern", "action", "expect", "role"), list(_org_cases()))
async def test_ws_matrix_organiser_and_notices(pattern, action, expect, role):
    world = await sync_to_async(_world)()
    headers = [SAME_ORIGIN]
    if role in world["cookies"]:
        headers.append(world["cookies"][role])
    socket = WebsocketCommunicator(application, "/" + pattern, headers=headers)
    connected, code = await socket.connect()
    if expect[role] == "refused":
        assert (connected, code) == (False, 4401 if role == "anon" else 4403)
        return
    assert connected is True
    try:
        if pattern == "ws/organiser/":
            first = await socket.receive_json_from(timeout=5)
            assert first["type"] == "dashboard.figures"
        await socket.send_json_to({"type": action})
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] == expect["reply"], frame
    finally:
        await socket.disconnect()
