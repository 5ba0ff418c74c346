"""The negotiation inboxes, the navigation badge and image previews, live in Debian's Chromium
(issue 6), through the real Daphne, channel layer, Redis and PostgreSQL.

* The buyer's "My negotiations": when an exhibitor writes, the room's row moves to the top with
  the message as its preview (as text), the time in the buyer's zone, "1 new" and "The
  exhibitor answered"; a screen reader hears a summary; the navigation badge counts the room;
  reading it elsewhere clears both; a new room, not on the page, shows a "refresh" notice and
  leaves the rows alone.
* The exhibitor's shared inbox, filtered to "Awaiting our reply": the row follows the buyer's
  and a colleague's messages and the assignment; activity the filter would hide adds nothing
  to the notice, activity it would show does.
* The room: image attachments show as thumbnails that load (naturalWidth > 0), with the file
  name as alt text, and open full size inline; the page holds one /ws/negotiations/ socket
  for the room and the badge.

The pages are templates/negotiations/{my_negotiations,exhibitor_inbox,room}.html and
static/negotiations/js/{inbox,nav,room,socket}.js."""

from __future__ import annotations

import re
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Page, expect

from negotiations import services as nego_services
from negotiations.models import Attachment, Message
from tests.e2e.test_negotiation import LIVE, assert_no_problems, log, room_ready, sign_in
from tests.exhibitors.factories import add_member, make_exhibitor, owner_of, png_bytes, upload
from tests.factories import make_buyer
from tests.negotiations import nego_factories

pytestmark = pytest.mark.e2e


def elsewhere(function, /, *args, **kwargs):
    """Run a service as another process would: in a thread of its own, without Playwright's
    running event loop (the services' on-commit broadcasts need a thread without one), on its
    own database connection, closed afterwards."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def send(user, room, body: str) -> Message:
    return elsewhere(nego_factories.send, user, room, body)


def make_room(**kwargs):
    return elsewhere(nego_factories.make_room, **kwargs)


def client_id() -> str:
    return nego_factories.client_id()


def inbox_ready(page: Page) -> None:
    expect(page.locator("[data-nego-live]")).to_have_attribute("data-nego-state", "ready")


def nav_count(page: Page):
    return page.get_by_test_id("nav-negotiations").locator("[data-nego-nav-count]")


def nav_badge(page: Page):
    return page.get_by_test_id("nav-negotiations").locator("[data-nego-nav-badge]")


def shown_time(page: Page, message: Message) -> str:
    """The message's time as the inbox writes it: "j M Y, H:i" in the page's zone."""
    zone = page.locator("[data-nego-live]").get_attribute("data-zone")
    local = message.created_at.astimezone(ZoneInfo(zone))
    return f"{local.day} {local.strftime('%b %Y, %H:%M')}"


def read_all(user, room) -> None:
    room.refresh_from_db()
    elsewhere(
        nego_services.negotiation_mark_read, user=user, negotiation_id=room.pk, seq=room.last_seq
    )


def test_nego_live_buyer_list_row_moves_up_badge_counts_and_new_rooms_wait(new_context):
    khalid = make_buyer(full_name="Khalid Alsaud", company="Gulf Trading")
    older = make_room(exhibitor=make_exhibitor(name="Older Lights"), buyer=khalid)
    newer = make_room(exhibitor=make_exhibitor(name="Newer Lamps"), buyer=khalid)
    for room in (older, newer):
        read_all(khalid, room)
    list_path = reverse("negotiations:list")
    page, problems = sign_in(new_context, email=khalid.email, path=list_path)
    inbox_ready(page)
    rows = page.locator("[data-nego-row]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-negotiation", str(newer.pk))
    expect(nav_badge(page)).to_have_count(0)
    expect(page.get_by_test_id("unread")).to_have_count(0)

    # The older room's exhibitor writes: its row goes to the top, with the text as text.
    body = "<b>New price</b>: USD 9 <img src=x onerror=alert(1)>"
    written = send(owner_of(older.exhibitor), older, body)
    first = rows.first
    expect(first).to_have_attribute("data-negotiation", str(older.pk), timeout=LIVE)
    expect(first.get_by_test_id("row-preview")).to_have_text(body)
    expect(first.get_by_test_id("row-preview").locator("b, img")).to_have_count(0)
    expect(first.get_by_test_id("unread")).to_have_text("1 new")
    expect(first).to_have_class(re.compile(r"\bis-unread\b"))
    expect(first).to_contain_text("The exhibitor answered")
    expect(first.locator("[data-row-time]")).to_have_text(shown_time(page, written))
    expect(page.get_by_test_id("live-announcer")).to_have_text(
        "New message in the negotiation with Older Lights.", timeout=LIVE
    )
    expect(nav_count(page)).to_have_text("1", timeout=LIVE)
    expect(rows.nth(1)).to_have_attribute("data-negotiation", str(newer.pk))
    expect(rows.nth(1).get_by_test_id("unread")).to_have_count(0)

    # Khalid writes in the newer room from elsewhere (another tab): it moves up, read, his turn
    # is over; then he reads the older room there too: its marker and the badge follow.
    send(khalid, newer, "Any news on the samples?")
    expect(rows.first).to_have_attribute("data-negotiation", str(newer.pk), timeout=LIVE)
    expect(rows.first).to_contain_text("Waiting for the exhibitor's reply")
    expect(rows.first.get_by_test_id("unread")).to_have_count(0)
    read_all(khalid, older)
    expect(rows.nth(1).get_by_test_id("unread")).to_have_count(0, timeout=LIVE)
    expect(rows.nth(1)).not_to_have_class(re.compile(r"\bis-unread\b"))
    expect(nav_badge(page)).to_have_count(0, timeout=LIVE)

    # A new room is not on this page: a notice offers a refresh; the rows stay as they are.
    fresh = make_room(exhibitor=make_exhibitor(name="Fresh Fans"), buyer=khalid)
    notice = page.get_by_test_id("live-notice")
    expect(notice).to_be_visible(timeout=LIVE)
    expect(notice).to_contain_text("New activity in 1 negotiations not shown here.")
    expect(rows).to_have_count(2)
    expect(nav_count(page)).to_have_text("1", timeout=LIVE)  # its opening message is unread
    page.get_by_test_id("live-refresh").click()
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-negotiation", str(fresh.pk))
    expect(rows.first.get_by_test_id("row-preview")).to_have_text("Negotiation opened.")
    expect(notice).to_be_hidden()
    assert_no_problems(problems)


def test_nego_live_exhibitor_inbox_filtered_follows_its_rows_and_counts_what_fits(new_context):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    sales = add_member(exhibitor, "sales", full_name="Sam Sales")
    anne = make_buyer(full_name="Anne Buyer", company="Anne Imports")
    room = make_room(exhibitor=exhibitor, buyer=anne)
    send(anne, room, "Do you ship to Marseille?")
    read_all(owner, room)
    inbox_path = reverse("negotiations:exhibitor_inbox", args=[exhibitor.pk])
    page, problems = sign_in(new_context, email=owner.email, path=inbox_path)
    page.get_by_role("link", name="Awaiting our reply").click()
    inbox_ready(page)
    rows = page.locator("[data-nego-row]")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row.get_by_test_id("row-preview")).to_have_text("Do you ship to Marseille?")
    expect(row.get_by_test_id("unread")).to_have_count(0)

    # The buyer writes again: preview, "1 new", still awaiting our reply; the badge counts it.
    send(anne, room, "And to Genoa?")
    expect(row.get_by_test_id("row-preview")).to_have_text("And to Genoa?", timeout=LIVE)
    expect(row.get_by_test_id("unread")).to_have_text("1 new")
    expect(row.locator(".nego-turn")).to_have_text("Awaiting our reply")
    expect(nav_count(page)).to_have_text("1", timeout=LIVE)

    # The owner assigns the room to Sam; Sam answers: the turn passes, the room is read.
    elsewhere(
        nego_services.negotiation_assign, user=owner, negotiation_id=room.pk, assignee_id=sales.pk
    )
    expect(row.locator("[data-row-assigned]")).to_have_text("Sam Sales", timeout=LIVE)
    send(sales, room, "Both, FOB Ningbo.")
    expect(row.get_by_test_id("row-preview")).to_have_text("Both, FOB Ningbo.", timeout=LIVE)
    expect(row.get_by_test_id("unread")).to_have_count(0)
    expect(row).to_contain_text("Awaiting the buyer")
    expect(row.locator(".nego-turn")).to_have_count(0)
    expect(nav_badge(page)).to_have_count(0, timeout=LIVE)

    # A new buyer opens a room: nothing that "Awaiting our reply" would list yet (no notice);
    # once that buyer writes, it would: the notice counts one, and the row count is unchanged.
    bob = make_buyer(full_name="Bob Buyer")
    other_room = make_room(exhibitor=exhibitor, buyer=bob)
    expect(nav_count(page)).to_have_text("1", timeout=LIVE)
    notice = page.get_by_test_id("live-notice")
    expect(notice).to_be_hidden()
    send(bob, other_room, "Price for 1,000 pieces?")
    expect(notice).to_contain_text("New activity in 1 negotiations not shown here.", timeout=LIVE)
    expect(rows).to_have_count(1)
    page.get_by_test_id("live-refresh").click()
    expect(rows).to_have_count(1)  # Anne's room waits for the buyer now: Bob's is listed
    expect(rows.first).to_have_attribute("data-negotiation", str(other_room.pk))
    expect(rows.first.get_by_test_id("unread")).to_have_text("2 new")
    assert_no_problems(problems)


def test_nego_live_image_thumbnails_load_and_open_full_size_one_socket(new_context):
    exhibitor = make_exhibitor(name="Lantern Works")
    owner = owner_of(exhibitor)
    khalid = make_buyer(full_name="Khalid Alsaud")
    room = make_room(exhibitor=exhibitor, buyer=khalid)
    photo = png_bytes(size=(120, 80), mode="RGBA", color=(200, 30, 30, 200))
    elsewhere(
        nego_services.attachment_send,
        user=khalid,
        negotiation_id=room.pk,
        client_id=client_id(),
        upload=upload("Sample A.png", photo),
    )
    room_path = reverse("negotiations:room", args=[room.pk])
    page, problems = sign_in(new_context, email=owner.email, path=room_path)
    # The first load's sockets are open before counting starts (one opening while the page
    # reloads would be counted and, its close event lost with its document, never uncounted).
    room_ready(page)
    sockets: list[str] = []
    open_now: list[int] = [0, 0]  # negotiation sockets open now, and at most

    def on_socket(socket) -> None:
        sockets.append(socket.url)
        if socket.url.endswith("/ws/negotiations/"):
            open_now[0] += 1
            open_now[1] = max(open_now)

            def closed(_socket=None) -> None:
                open_now[0] -= 1

            socket.on("close", closed)

    def on_navigated(frame) -> None:
        # A new document: the sockets of the one it replaced are gone with it.
        if frame == page.main_frame:
            open_now[0] = 0

    page.on("websocket", on_socket)
    page.on("framenavigated", on_navigated)
    page.reload()
    room_ready(page)

    def thumbnail(name: str):
        return log(page).get_by_role("img", name=name)

    # From the history, and live.
    expect(thumbnail("Sample A.png")).to_have_count(1)
    elsewhere(
        nego_services.attachment_send,
        user=khalid,
        negotiation_id=room.pk,
        client_id=client_id(),
        upload=upload("Sample B.png", photo),
    )
    expect(thumbnail("Sample B.png")).to_have_count(1, timeout=LIVE)
    for name in ("Sample A.png", "Sample B.png"):
        image = thumbnail(name)
        attachment = Attachment.objects.get(negotiation=room, safe_name=name)
        preview = reverse("negotiations:attachment_preview", args=[attachment.pk])
        expect(image).to_have_attribute("loading", "lazy")
        expect(image).to_have_attribute("src", preview)
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("image => [image.naturalWidth, image.naturalHeight]") == [120, 80]
        link = log(page).get_by_role("link", name=f"Open {name} full size")
        expect(link).to_have_attribute("href", preview)
        expect(log(page).get_by_role("link", name=name, exact=True)).to_have_attribute(
            "href", reverse("negotiations:attachment_download", args=[attachment.pk])
        )

    # Clicking opens the full-size image, inline, in a new tab.
    with page.context.expect_page() as opened:
        log(page).get_by_role("link", name="Open Sample B.png full size").click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.endswith(preview)
    assert full.evaluate("document.images.length && document.images[0].naturalWidth") == 120
    answer = page.request.get(preview)
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"].startswith('inline; filename="Sample B.png"')
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert answer.headers["cache-control"] == "private, max-age=300"
    with attachment.file.open("rb") as stored:
        assert answer.body() == stored.read()

    # The room and the navigation badge share the page's one negotiation socket.
    assert open_now == [1, 1], sockets
    assert_no_problems(problems)
