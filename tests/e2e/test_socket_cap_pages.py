"""The per-user socket cap (SECURITY E5) as a person meets it: with ten negotiation sockets
of theirs already open, a newly opened negotiation room says why it is not live, and does
not keep retrying."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.test_negotiation import sign_in
from tests.exhibitors.factories import make_exhibitor
from tests.factories import make_buyer
from tests.negotiations.nego_factories import make_room

pytestmark = pytest.mark.e2e

TOO_MANY = "Too many pages of the fair are open in this browser. Close some, then reload this page."


def test_a_room_opened_past_the_socket_cap_says_so_and_stops(new_context):
    buyer = make_buyer(full_name="Khalid Alsaud")
    room = make_room(exhibitor=make_exhibitor(name="Lantern Works"), buyer=buyer)
    room_path = reverse("negotiations:room", args=[room.pk])
    page, _problems = sign_in(new_context, email=buyer.email, path=room_path)
    expect(page.locator("[data-nego-room]")).to_have_attribute("data-nego-state", "ready")

    # Nine more sockets of the same user (the page holds the first): ten, the cap.
    opened = page.evaluate(
        """() => Promise.all(Array.from({ length: 9 }, () => new Promise((resolve) => {
            const socket = new WebSocket(`ws://${location.host}/ws/negotiations/`);
            window.extraSockets = [...(window.extraSockets || []), socket];
            socket.addEventListener("message", () => resolve("open"), { once: true });
            socket.addEventListener("close", (event) => resolve(event.code), { once: true });
        })))"""
    )
    assert opened == ["open"] * 9

    second = page.context.new_page()
    sockets: list[str] = []
    second.on("websocket", lambda socket: sockets.append(socket.url))
    second.goto(room_path)

    status = second.locator("[data-nego-room]").get_by_text(TOO_MANY)
    expect(status).to_be_visible()
    expect(second.locator("[data-nego-room]")).to_have_attribute("data-nego-state", "reconnecting")
    # It does not retry: one negotiation socket was tried, and no other in the next seconds.
    second.wait_for_timeout(3000)
    assert len([url for url in sockets if url.endswith("/ws/negotiations/")]) == 1
    # The first page is untouched and still live.
    expect(page.locator("[data-nego-room]")).to_have_attribute("data-nego-state", "ready")
