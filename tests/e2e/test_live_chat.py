"""The stream room's chat in Debian's Chromium (issue 5): two buyers, each in a browser context
of their own, talk live through the real Daphne, channel layer, Redis and PostgreSQL; an
XSS payload stays text; the exhibitor's owner (a third context) hides a message, which goes
from both buyers' pages, and mutes a buyer, who is told so instead of being silenced.

The front end is static/livestream/js/chat.js over room.js's one socket; the page part is
templates/livestream/_chat.html."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import BrowserContext, Locator, Page, expect

from livestream import chat, services
from livestream.models import ChatMessage, ChatRestriction, LiveSession
from tests.e2e.conftest import BrowserProblems
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import PASSWORD, make_buyer

pytestmark = pytest.mark.e2e

XSS = '<img src=x onerror="window.__xss=1">'
# A time as the reader's browser writes it ("14:05", "02:05 PM"; with the date near midnight).
TIME = r".*\d{1,2}:\d\d(\s?[AP]M)?"


def watch(page: Page) -> BrowserProblems:
    """What goes wrong in this page (console errors such as CSP violations, uncaught errors,
    failed requests), like the ``browser_problems`` fixture does for ``page``."""
    problems = BrowserProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("requestfailed", problems.on_request_failed)
    return problems


def open_room_signed_in(
    new_context: Callable[..., BrowserContext], *, email: str, room_path: str
) -> tuple[Page, BrowserProblems]:
    """A fresh browser context logs in and lands in the room (the first page of a browser
    session reloads once to report the time zone: the login form is used after that)."""
    page = new_context().new_page()
    problems = watch(page)
    page.goto(f"/accounts/login/?next={room_path}")
    expect(page.locator("body")).to_have_attribute(
        "data-time-zone-source", re.compile(r"^(browser|profile)$")
    )
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(room_path) + "$"))
    # Joined: the socket is open and the chat has its history.
    expect(page.locator("[data-chat]")).to_have_attribute("data-chat-state", "joined")
    expect(page.get_by_label("Your message")).to_be_visible()
    return page, problems


def chat_log(page: Page) -> Locator:
    return page.get_by_role("log")


def message(page: Page, body: str) -> Locator:
    """The chat message (confirmed or not) whose body is exactly ``body``."""
    return (
        chat_log(page)
        .locator("li.chat-msg")
        .filter(has=page.locator(".chat-body", has_text=re.compile(f"^{re.escape(body)}$")))
    )


def send(page: Page, body: str) -> Locator:
    """Type ``body`` and press Enter; returns the message once the server acknowledged it
    (no "Sending…" left)."""
    box = page.get_by_label("Your message")
    box.fill(body)
    box.press("Enter")
    sent = message(page, body)
    expect(sent).to_have_count(1)
    expect(sent).not_to_have_class(re.compile(r"\bis-pending\b"))
    expect(box).to_have_value("")
    return sent


def test_chat_two_buyers_talk_live_xss_stays_text_staff_hide_and_mute(new_context):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    now = timezone.now()
    session = services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="LED lanterns launch",
        start=now + timedelta(hours=1),
        end=now + timedelta(hours=2),
        kind=LiveSession.Kind.LAUNCH,
    )
    # Khalid lets rooms show his company; Mei does not (the default).
    khalid = make_buyer(
        full_name="Khalid Alsaud", company="Gulf Trading", show_identity_in_rooms=True
    )
    mei = make_buyer(full_name="Mei Chen", company="Harbour Imports")
    room_path = reverse("livestream:room", args=[session.pk])

    page_k, problems_k = open_room_signed_in(new_context, email=khalid.email, room_path=room_path)
    page_m, problems_m = open_room_signed_in(new_context, email=mei.email, room_path=room_path)

    # Khalid asks; Mei sees it live, with his short name and company, as a question.
    question = "Great lanterns! Can they ship in Q3?"
    page_k.get_by_label("Ask as a question").check()
    sent = send(page_k, question)
    expect(sent.locator(".chat-author")).to_have_text("Khalid A.")
    seen = message(page_m, question)
    expect(seen).to_have_count(1)
    expect(seen.locator(".chat-author")).to_have_text("Khalid A.")
    expect(seen.locator(".chat-company")).to_have_text("Gulf Trading")
    expect(seen.locator(".chat-badge-question")).to_have_text("Question")
    expect(seen.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))

    # Mei answers; Khalid sees it live (her company not named), and each message is on each
    # page exactly once.
    reply = "Same question here, we need 2,000 pieces."
    send(page_m, reply)
    expect(message(page_k, reply)).to_have_count(1)
    expect(message(page_k, reply).locator(".chat-author")).to_have_text("Mei C.")
    expect(message(page_k, reply).locator(".chat-company")).to_have_count(0)
    expect(message(page_k, reply)).not_to_contain_text("Harbour Imports")
    expect(message(page_k, question)).to_have_count(1)
    expect(message(page_m, question)).to_have_count(1)

    # The XSS payload is shown as the text it is, on both pages; nothing runs.
    send(page_k, XSS)
    for page in (page_k, page_m):
        shown = message(page, XSS)
        expect(shown).to_have_count(1)
        expect(shown.locator(".chat-body")).to_have_text(XSS)
        expect(shown.locator("img")).to_have_count(0)
        expect(chat_log(page).locator("img")).to_have_count(0)
        assert page.evaluate("typeof window.__xss") == "undefined"
    # A link is shown, clickable, and never followed by the referrer.
    link_text = "Catalogue: https://lanterns.example/catalogue?q=q3"
    send(page_m, link_text)
    link = message(page_k, link_text).get_by_role(
        "link", name="https://lanterns.example/catalogue?q=q3", exact=True
    )
    expect(link).to_have_attribute("href", "https://lanterns.example/catalogue?q=q3")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")

    # The exhibitor's owner comes in, sees everything with its badges, and hides Khalid's
    # question through the message's action menu.
    page_o, problems_o = open_room_signed_in(new_context, email=owner.email, room_path=room_path)
    expect(message(page_o, question)).to_have_count(1)
    send(page_o, "Yes, Q3 works for both of you.")
    badge = message(page_m, "Yes, Q3 works for both of you.").locator(".chat-badge")
    expect(badge).to_have_text("Exhibitor")

    target = message(page_o, question)
    target.locator("summary", has_text="Actions for the message from Khalid A.").click()
    target.get_by_role("button", name="Hide").click()
    for page in (page_o, page_k, page_m):
        expect(message(page, question)).to_have_count(0)
        expect(message(page, reply)).to_have_count(1)  # only that one went
    hidden = ChatMessage.objects.get(session=session, body=question)
    assert hidden.hidden_at is not None
    assert hidden.hidden_by_id == owner.pk
    assert ChatMessage.objects.filter(session=session, hidden_at__isnull=True).count() == 4

    # The owner mutes Mei for 10 minutes; she is told so, with the time, instead of a form.
    other = message(page_o, reply)
    other.locator("summary", has_text="Actions for the message from Mei C.").click()
    other.get_by_role("button", name="Mute 10 min").click()
    expect(page_o.locator("[data-chat-status]")).to_have_text(
        re.compile(rf"^Mei C\. is muted until {TIME}\.$")
    )
    notice = page_m.locator("[data-chat-restricted]")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(re.compile(rf"^You are muted in this chat until {TIME}\.$"))
    expect(page_m.get_by_label("Your message")).to_be_hidden()
    restriction = ChatRestriction.objects.get(user=mei)
    assert restriction.kind == ChatRestriction.Kind.MUTE
    # Khalid was not muted: his form is still there.
    expect(page_k.get_by_label("Your message")).to_be_visible()
    expect(page_k.locator("[data-chat-restricted]")).to_be_hidden()

    for problems in (problems_k, problems_m, problems_o):
        problems.assert_none()


def test_chat_reconnect_resumes_missed_and_sends_queued_once_anonymous_reads_live(new_context):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    now = timezone.now()
    session = services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="LED lanterns launch",
        start=now + timedelta(hours=1),
        end=now + timedelta(hours=2),
        kind=LiveSession.Kind.LAUNCH,
    )
    khalid = make_buyer(full_name="Khalid Alsaud", company="Gulf Trading")
    mei = make_buyer(full_name="Mei Chen", company="Harbour Imports")
    # 60 earlier messages: the page shows the last 50 and loads the rest on demand.
    identity = chat.chat_identity(user=mei, exhibitor_id=exhibitor.pk, is_staff=False)
    for number in range(1, 61):
        chat.chat_message_send(
            session_id=session.pk,
            identity=identity,
            client_id=f"earlier-{number:04d}",
            body=f"Earlier message {number}",
        )
    room_path = reverse("livestream:room", args=[session.pk])

    # A signed-out reader: the last 50, a way to sign in, no form, no reactions, no menus.
    reader = new_context().new_page()
    reader_problems = watch(reader)
    reader.goto(room_path)
    expect(reader.locator("body")).to_have_attribute(
        "data-time-zone-source", re.compile(r"^(browser|profile)$")
    )
    expect(reader.locator("[data-chat]")).to_have_attribute("data-chat-state", "joined")
    expect(chat_log(reader).locator("li.chat-msg")).to_have_count(50)
    expect(message(reader, "Earlier message 11")).to_have_count(1)
    expect(message(reader, "Earlier message 10")).to_have_count(0)
    sign_in = reader.get_by_role("link", name="Sign in to chat")
    expect(sign_in).to_have_attribute("href", f"/accounts/login/?next={quote(room_path, safe='')}")
    expect(reader.get_by_label("Your message")).to_have_count(0)
    expect(reader.get_by_role("button", name=re.compile("Like"))).to_be_disabled()
    expect(chat_log(reader).locator("summary")).to_have_count(0)
    reader.get_by_role("button", name="Load earlier messages").click()
    expect(chat_log(reader).locator("li.chat-msg")).to_have_count(60)
    expect(message(reader, "Earlier message 1")).to_have_count(1)
    expect(reader.get_by_role("button", name="Load earlier messages")).to_be_hidden()
    bodies = chat_log(reader).locator(".chat-body").all_inner_texts()
    assert bodies == [f"Earlier message {number}" for number in range(1, 61)]

    page_k, problems_k = open_room_signed_in(new_context, email=khalid.email, room_path=room_path)
    page_m, problems_m = open_room_signed_in(new_context, email=mei.email, room_path=room_path)

    # Khalid's connection drops (the room does not reconnect until told to, standing in for
    # a network that is away for a while).
    page_k.evaluate(
        """() => {
            const room = document.querySelector("[data-room]").liveRoom;
            room.stopped = true;
            room.socket.close();
        }"""
    )
    expect(page_k.locator("[data-chat]")).to_have_attribute("data-chat-state", "reconnecting")
    # Meanwhile Mei talks (the reader sees it live) and Khalid types.
    send(page_m, "Missed while you were away")
    expect(message(reader, "Missed while you were away")).to_have_count(1)
    box = page_k.get_by_label("Your message")
    box.fill("Typed while offline")
    box.press("Enter")
    queued = message(page_k, "Typed while offline")
    expect(queued).to_contain_text("Sending… (waiting for the connection)")
    expect(message(page_m, "Typed while offline")).to_have_count(0)

    # The connection comes back: the missed message arrives, the queued one goes, once each.
    page_k.evaluate(
        """() => {
            const room = document.querySelector("[data-room]").liveRoom;
            room.stopped = false;
            room.connect();
        }"""
    )
    expect(page_k.locator("[data-chat]")).to_have_attribute("data-chat-state", "joined")
    expect(message(page_k, "Missed while you were away")).to_have_count(1)
    expect(queued).not_to_have_class(re.compile(r"\bis-pending\b"))
    expect(queued.locator(".chat-author")).to_have_text("Khalid A.")
    for page in (page_m, reader):
        expect(message(page, "Typed while offline")).to_have_count(1)
    assert ChatMessage.objects.filter(session=session, body="Typed while offline").count() == 1
    # In order on Khalid's page: the last earlier message, Mei's, then his.
    tail = chat_log(page_k).locator(".chat-body").all_inner_texts()[-3:]
    assert tail == ["Earlier message 60", "Missed while you were away", "Typed while offline"]

    for problems in (reader_problems, problems_k, problems_m):
        problems.assert_none()
