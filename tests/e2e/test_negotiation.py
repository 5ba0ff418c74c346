"""One-to-one negotiation in Debian's Chromium (issue 6): two buyers and the exhibitor's owner,
each in a browser context of their own, through the real Daphne, channel layer, Redis and
PostgreSQL.

Buyer A presses "One-to-one negotiation" in a live stream room, writes and sends a PDF; the
owner, on the room page reached from the shared inbox, sees both in real time, answers and
sends a quote; A accepts it and the purchase intent appears on both sides. Buyer B, in the
same stream room all along, never sees any of it: not on the page, not in a websocket frame,
and the room, the file and the API answer B with 404.

The pages are templates/negotiations/room.html and static/negotiations/js/room.js."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import BrowserContext, Locator, Page, expect

from livestream import services as live_services
from livestream.models import LiveSession
from negotiations import services as nego_services
from negotiations.models import Attachment, Message, Negotiation, PurchaseIntent, Quote
from tests.e2e.conftest import BrowserProblems
from tests.exhibitors.factories import make_exhibitor, make_product, owner_of, pdf_bytes
from tests.factories import PASSWORD, make_buyer
from tests.negotiations.nego_factories import quote_data

pytestmark = pytest.mark.e2e

SECRET = "We need 500 lanterns; our target is USD 175 FOB Ningbo."
REPLY = "Thanks Khalid, our best offer is in the quote below."
PDF_NAME = "price-list.pdf"
LIVE = 10_000  # ms to wait for something another browser did


def watch(page: Page) -> BrowserProblems:
    problems = BrowserProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("requestfailed", problems.on_request_failed)
    return problems


def assert_no_problems(problems: BrowserProblems) -> None:
    """``assert_none`` without the live player's noise: its attempts to reach the media server,
    which no test of this file runs (the HLS URL refuses connections), and its MediaSource
    ``blob:`` URL, revoked when the page moves on while the player is still trying."""
    noise = (settings.MEDIA_HLS_URL.split("/hls")[0], "blob:")
    for name in ("console_errors", "page_errors", "failed_requests"):
        kept = [p for p in getattr(problems, name) if not any(n in p for n in noise)]
        setattr(problems, name, kept)
    problems.assert_none()


def sign_in(
    new_context: Callable[..., BrowserContext], *, email: str, path: str
) -> tuple[Page, BrowserProblems]:
    """A fresh browser context logs in and lands on ``path``. The first page of a browser
    session reports the time zone and reloads itself (nothing typed yet): the form is used
    once the reloaded page, in the reader's zone, is there (opening the page again instead
    could collide with that reload)."""
    page = new_context().new_page()
    problems = watch(page)
    page.goto(f"/accounts/login/?next={path}")
    expect(page.locator("body")).to_have_attribute(
        "data-time-zone-source", re.compile(r"^(browser|profile)$")
    )
    page.wait_for_load_state()
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return page, problems


def room_ready(page: Page) -> None:
    expect(page.locator("[data-nego-room]")).to_have_attribute("data-nego-state", "ready")


def log(page: Page) -> Locator:
    return page.get_by_role("log")


def message(page: Page, text: str) -> Locator:
    """The message (confirmed or not) whose text body is exactly ``text``."""
    return (
        log(page)
        .locator("li.nego-msg")
        .filter(has=page.locator(".nego-body", has_text=re.compile(f"^{re.escape(text)}$")))
    )


def test_negotiation_from_stream_room_to_purchase_intent_other_buyer_sees_nothing(new_context):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    lantern = make_product(
        exhibitor, name="LED lantern", sku="LANTERN-1", moq_unit="pieces", currency="USD"
    )
    now = timezone.now()
    session = live_services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="LED lanterns launch",
        start=now + timedelta(minutes=5),
        end=now + timedelta(hours=1),
        kind=LiveSession.Kind.LAUNCH,
        featured_products=[lantern],
    )
    channel, key = live_services.stream_key_reveal(user=owner, exhibitor_id=exhibitor.pk)
    live_services.media_publish(public_id=channel.public_id, key=key)  # the encoder starts
    live_services.session_pin_product(user=owner, session_id=session.pk, product_id=lantern.pk)
    khalid = make_buyer(full_name="Khalid Alsaud", company="Gulf Trading")
    mei = make_buyer(full_name="Mei Chen", company="Harbour Imports")
    stream_path = reverse("livestream:room", args=[session.pk])

    # Buyer B (Mei) watches the stream; every websocket frame her page receives is kept.
    page_b, problems_b = sign_in(new_context, email=mei.email, path=stream_path)
    frames_b: list[str] = []
    page_b.on(
        "websocket",
        lambda socket: socket.on("framereceived", lambda payload: frames_b.append(str(payload))),
    )
    page_b.reload()
    expect(page_b.locator("[data-room]")).to_have_attribute("data-status", "live")
    expect(page_b.get_by_role("button", name="One-to-one negotiation")).to_be_visible()

    # Buyer A (Khalid) watches the same stream and presses the button.
    page_a, problems_a = sign_in(new_context, email=khalid.email, path=stream_path)
    page_a.get_by_role("button", name="One-to-one negotiation").click()
    room = Negotiation.objects.get(buyer=khalid, exhibitor=exhibitor)
    room_path = reverse("negotiations:room", args=[room.pk])
    expect(page_a).to_have_url(re.compile(re.escape(room_path) + "$"))
    room_ready(page_a)
    opened = "Asked from the live session “LED lanterns launch” about “LED lantern”."
    expect(log(page_a).locator("li.is-system")).to_have_text(re.compile(re.escape(opened)))
    expect(page_a.get_by_role("heading", level=1)).to_have_text(
        "Negotiation with Harbour Lights Co"
    )

    # The owner opens the shared inbox, sees the new room unread, and goes in.
    inbox_path = reverse("negotiations:exhibitor_inbox", args=[exhibitor.pk])
    page_o, problems_o = sign_in(new_context, email=owner.email, path=inbox_path)
    row = page_o.locator("tr.nego-inbox-row", has_text="Khalid Alsaud")
    expect(row).to_have_class(re.compile(r"\bis-unread\b"))
    expect(row.get_by_text("1 new")).to_be_visible()
    row.get_by_role("link", name="Khalid Alsaud").click()
    expect(page_o).to_have_url(re.compile(re.escape(room_path) + "$"))
    room_ready(page_o)
    expect(page_o.get_by_role("heading", level=1)).to_have_text("Negotiation with Khalid Alsaud")
    expect(page_o.get_by_test_id("buyer-card")).to_contain_text("Gulf Trading")
    expect(log(page_o).locator("li.is-system")).to_have_text(re.compile(re.escape(opened)))

    # A writes (Enter sends); the owner sees it at once, with A's name and side.
    box = page_a.get_by_label("Your message")
    box.fill(SECRET)
    box.press("Enter")
    sent = message(page_a, SECRET)
    expect(sent).to_have_count(1)
    expect(sent).not_to_have_class(re.compile(r"\bis-pending\b"))
    expect(box).to_have_value("")
    seen = message(page_o, SECRET)
    expect(seen).to_have_count(1, timeout=LIVE)
    expect(seen.locator(".nego-author")).to_have_text("Khalid Alsaud")
    expect(seen.locator(".nego-side")).to_have_text("Buyer")
    # The owner's page is open: A's message shows as seen.
    expect(sent.locator(".nego-seen")).to_have_text("Seen", timeout=LIVE)

    # A sends a PDF; both see it, and the owner can download it.
    page_a.locator("[data-nego-file]").set_input_files(
        files=[{"name": PDF_NAME, "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    for page in (page_a, page_o):
        link = log(page).get_by_role("link", name=PDF_NAME)
        expect(link).to_have_count(1, timeout=LIVE)
    attachment = Attachment.objects.get(negotiation=room)
    download_path = reverse("negotiations:attachment_download", args=[attachment.pk])
    expect(log(page_o).get_by_role("link", name=PDF_NAME)).to_have_attribute("href", download_path)
    download = page_o.request.get(download_path)
    assert download.status == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.body() == pdf_bytes()
    expect(page_a.locator("[data-nego-upload-error]")).to_have_text("")

    # The owner answers in real time.
    page_o.get_by_label("Your message").fill(REPLY)
    page_o.get_by_label("Your message").press("Enter")
    expect(message(page_a, REPLY)).to_have_count(1, timeout=LIVE)
    expect(message(page_a, REPLY).locator(".nego-side")).to_have_text("Harbour Lights Co")

    # ... and sends a quote: the catalogue fills in the product's unit and terms.
    page_o.get_by_text("Send a quote").click()
    page_o.get_by_label("Product from the catalogue").select_option(label="LED lantern")
    expect(page_o.get_by_label("Product description")).to_have_value("LED lantern")
    expect(page_o.get_by_label("Unit", exact=True)).to_have_value("pieces")
    page_o.get_by_label("Quantity").fill("500")
    page_o.get_by_label("Unit price").fill("182.50")
    page_o.get_by_label("Incoterm").select_option("FOB")
    page_o.get_by_label("Port").fill("Ningbo")
    page_o.get_by_label("Lead time (days)").fill("35")
    page_o.get_by_label("Payment terms").fill("30% deposit, 70% against B/L copy")
    expect(page_o.locator("[data-nego-quote-preview]")).to_have_text("Total: $91,250.00")
    page_o.get_by_role("button", name="Send the quote").click()

    for page in (page_o, page_a):
        card = log(page).locator("[data-quote-card]")
        expect(card).to_have_count(1, timeout=LIVE)
        expect(card.locator("[data-q=title]")).to_have_text("Quote v1")
        expect(card.locator("[data-q=status]")).to_have_text("Open")
        expect(card.locator("[data-q=total]")).to_have_text("$91,250.00")
        expect(card.locator("[data-q=product]")).to_have_text("LED lantern")
        expect(card.locator("[data-q=incoterm]")).to_have_text("FOB")
        expect(card.locator("[data-q=port]")).to_have_text("Ningbo")
        expect(card.locator("[data-q=lead_time]")).to_have_text("35 days")
    # The owner cannot accept their own side's quote; A can.
    expect(log(page_o).get_by_role("button", name="Accept")).to_have_count(0)
    card_a = log(page_a).locator("[data-quote-card]")
    card_a.get_by_role("button", name="Accept").click()
    expect(card_a.locator("[data-q=confirm-text]")).to_have_text(
        "Accept this quote for $91,250.00? It becomes a purchase intent for both sides."
    )
    card_a.get_by_role("button", name="Yes, accept").click()

    # The purchase intent appears on both sides; the room is agreed.
    for page in (page_a, page_o):
        card = log(page).locator("[data-quote-card]")
        expect(card.locator("[data-q=status]")).to_have_text("Accepted", timeout=LIVE)
        expect(card.locator("[data-q=intent]")).to_have_text("Purchase intent: $91,250.00")
        expect(page.get_by_test_id("intents")).to_have_text(
            "Purchase intent of $91,250.00 (quote v1)", timeout=LIVE
        )
        expect(page.get_by_test_id("room-status")).to_have_text("Agreed", timeout=LIVE)
        expect(card.get_by_role("button", name="Accept")).to_be_hidden()
    intent = PurchaseIntent.objects.get(negotiation=room)
    assert (intent.total, intent.currency, intent.accepted_by_id) == (
        Decimal("91250.00"),
        "USD",
        khalid.pk,
    )
    assert Quote.objects.get(negotiation=room).status == Quote.Status.ACCEPTED
    room.refresh_from_db()
    assert room.status == Negotiation.Status.AGREED
    assert Message.objects.filter(negotiation=room, body=SECRET).count() == 1

    # Buyer B was in the same stream room all along and saw none of it.
    for secret in (SECRET, REPLY, PDF_NAME, "91,250", "91250", "Purchase intent", "Khalid"):
        assert secret not in page_b.content()
        assert not [frame for frame in frames_b if secret in frame], secret
    assert frames_b, "B's stream room socket carried frames (the recording works)"
    expect(
        page_b.get_by_test_id("nav-negotiations").locator("[data-nego-nav-badge]")
    ).to_have_count(0)
    assert_no_problems(problems_b)
    # Every door answers B as for something that does not exist.
    api_messages = reverse("api_nego_messages", args=[room.pk])
    transcript = reverse("negotiations:transcript_csv", args=[room.pk])
    for path in (room_path, download_path, api_messages, transcript):
        answer = page_b.request.get(path)
        assert answer.status == 404, path
        body = answer.text()
        for secret in (SECRET, PDF_NAME, "Khalid"):
            assert secret not in body, (path, secret)
    page_b.goto(room_path)
    expect(page_b.get_by_role("heading", level=1)).to_have_text("We could not find that page")
    page_b.goto(reverse("negotiations:list"))
    expect(page_b.get_by_text("You have no negotiations yet.")).to_be_visible()

    for problems in (problems_a, problems_o):
        assert_no_problems(problems)


def test_negotiation_reconnect_resumes_sends_queued_once_failed_upload_keeps_the_draft(
    new_context,
):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    khalid = make_buyer(full_name="Khalid Alsaud", company="Gulf Trading")
    room, _created = nego_services.negotiation_open(buyer=khalid, exhibitor_id=exhibitor.pk)
    # 60 earlier messages: the page shows the newest 50 and loads the rest on demand.
    for number in range(1, 61):
        nego_services.message_send(
            user=owner if number % 2 else khalid,
            negotiation_id=room.pk,
            client_id=f"earlier-{number:04d}",
            body=f"Earlier message {number}",
        )
    room_path = reverse("negotiations:room", args=[room.pk])

    page_a, problems_a = sign_in(new_context, email=khalid.email, path=room_path)
    room_ready(page_a)
    texts = log(page_a).locator("li.nego-msg[data-kind=text]")
    expect(texts).to_have_count(50)
    expect(message(page_a, "Earlier message 11")).to_have_count(1)
    expect(message(page_a, "Earlier message 10")).to_have_count(0)
    page_a.get_by_role("button", name="Load earlier messages").click()
    expect(texts).to_have_count(60)
    expect(log(page_a).locator("li.is-system")).to_have_text(re.compile("Negotiation opened."))
    expect(page_a.get_by_role("button", name="Load earlier messages")).to_be_hidden()
    bodies = log(page_a).locator("li.nego-msg[data-kind=text] .nego-body").all_inner_texts()
    assert bodies == [f"Earlier message {number}" for number in range(1, 61)]

    page_o, problems_o = sign_in(new_context, email=owner.email, path=room_path)
    room_ready(page_o)

    # A's connection drops (it does not come back until told to, standing in for a network
    # that is away for a while). Meanwhile the owner writes and A types.
    page_a.evaluate(
        """() => {
            const connection = document.querySelector("[data-nego-room]").negoRoom.connection;
            connection.stopped = true;
            connection.socket.close();
        }"""
    )
    room_root = page_a.locator("[data-nego-room]")
    expect(room_root).to_have_attribute("data-nego-state", "reconnecting")
    owner_box = page_o.get_by_label("Your message")
    owner_box.fill("Missed while you were away")
    owner_box.press("Enter")
    expect(message(page_o, "Missed while you were away")).not_to_have_class(
        re.compile(r"\bis-pending\b")
    )
    box = page_a.get_by_label("Your message")
    box.fill("Typed while offline")
    box.press("Enter")
    queued = message(page_a, "Typed while offline")
    expect(queued).to_contain_text("Sending… (waiting for the connection)")
    expect(message(page_o, "Typed while offline")).to_have_count(0)

    # The connection comes back: the missed message arrives, the queued one goes, once each.
    page_a.evaluate(
        """() => {
            const connection = document.querySelector("[data-nego-room]").negoRoom.connection;
            connection.stopped = false;
            connection.connect();
        }"""
    )
    room_ready(page_a)
    expect(message(page_a, "Missed while you were away")).to_have_count(1, timeout=LIVE)
    expect(queued).not_to_have_class(re.compile(r"\bis-pending\b"), timeout=LIVE)
    expect(message(page_o, "Typed while offline")).to_have_count(1, timeout=LIVE)
    assert Message.objects.filter(negotiation=room, body="Typed while offline").count() == 1
    tail = log(page_a).locator("li.nego-msg .nego-body").all_inner_texts()[-3:]
    assert tail == ["Earlier message 60", "Missed while you were away", "Typed while offline"]

    # Uploads that fail say why in plain words, and what A was typing stays where it was.
    draft = "About the specification sheet: see the next file"
    box.fill(draft)
    upload_error = page_a.locator("[data-nego-upload-error]")
    page_a.locator("[data-nego-file]").set_input_files(
        files=[{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}]
    )
    expect(upload_error).to_have_text(
        "tool.exe was not sent: Send a PDF, an image (JPEG, PNG, WebP), an XLSX workbook or "
        "a CSV file."
    )
    disguised = b"MZ\x90\x00\x03 this is an executable, not a PDF"
    page_a.locator("[data-nego-file]").set_input_files(
        files=[{"name": "specs.pdf", "mimeType": "application/pdf", "buffer": disguised}]
    )
    expect(upload_error).to_have_text(re.compile(r"^specs\.pdf was not sent: \S.+"), timeout=LIVE)
    expect(box).to_have_value(draft)
    assert not Attachment.objects.filter(negotiation=room).exists()
    expect(log(page_o).locator(".nego-attachment")).to_have_count(0)

    # The refused upload's 400 is the one error the browser logs, as it should.
    problems_a.console_errors = [
        error for error in problems_a.console_errors if "/attachments/send/" not in error
    ]
    for problems in (problems_a, problems_o):
        assert_no_problems(problems)


def test_negotiation_counter_offer_decline_and_close_live_on_both_sides(new_context):
    exhibitor = make_exhibitor(name="Harbour Lights Co")
    owner = owner_of(exhibitor)
    khalid = make_buyer(full_name="Khalid Alsaud", company="Gulf Trading")
    room, _created = nego_services.negotiation_open(buyer=khalid, exhibitor_id=exhibitor.pk)
    nego_services.quote_send(
        user=owner, negotiation_id=room.pk, client_id="first-quote", data=quote_data()
    )
    room_path = reverse("negotiations:room", args=[room.pk])
    page_a, problems_a = sign_in(new_context, email=khalid.email, path=room_path)
    room_ready(page_a)
    page_o, problems_o = sign_in(new_context, email=owner.email, path=room_path)
    room_ready(page_o)

    def card(page: Page, version: int) -> Locator:
        return (
            log(page)
            .locator("[data-quote-card]")
            .filter(has=page.locator("[data-q=title]", has_text=f"Quote v{version}"))
        )

    # A counters: the form opens filled in from v1; A lowers the price.
    card(page_a, 1).get_by_role("button", name="Counter-offer").click()
    expect(page_a.locator("[data-nego-quote-mode-text]")).to_have_text("Counter-offer to quote v1")
    expect(page_a.get_by_label("Product description")).to_have_value("55-inch 4K Smart TV")
    expect(page_a.get_by_label("Quantity")).to_have_value("500")
    expect(page_a.get_by_label("Unit", exact=True)).to_have_value("pieces")
    expect(page_a.get_by_label("Port")).to_have_value("Shenzhen")
    page_a.get_by_label("Unit price").fill("175")
    expect(page_a.locator("[data-nego-quote-preview]")).to_have_text("Total: $87,500.00")
    page_a.get_by_role("button", name="Send the quote").click()

    for page in (page_a, page_o):
        expect(card(page, 1).locator("[data-q=status]")).to_have_text("Superseded", timeout=LIVE)
        expect(card(page, 2).locator("[data-q=status]")).to_have_text("Open", timeout=LIVE)
        expect(card(page, 2).locator("[data-q=by]")).to_have_text("from the buyer")
        expect(card(page, 2).locator("[data-q=total]")).to_have_text("$87,500.00")
        expect(card(page, 1).get_by_role("button")).to_have_count(0)
    expect(card(page_a, 2).get_by_role("button", name="Revise")).to_be_visible()
    expect(card(page_a, 2).get_by_role("button", name="Accept")).to_be_hidden()

    # The owner declines v2: both sides see it, with the system message.
    card(page_o, 2).get_by_role("button", name="Decline").click()
    for page in (page_a, page_o):
        expect(card(page, 2).locator("[data-q=status]")).to_have_text("Declined", timeout=LIVE)
        expect(log(page).locator("li.is-system").last).to_contain_text(
            "Quote 2 declined.", timeout=LIVE
        )
    assert list(
        Quote.objects.filter(negotiation=room).order_by("version").values_list("status", flat=True)
    ) == ["superseded", "declined"]

    # The owner closes the room: A's page follows at once; A reopens it.
    page_o.get_by_role("button", name="Close the negotiation").click()
    expect(page_o.get_by_test_id("room-status")).to_have_text("Closed")
    expect(page_a.get_by_test_id("room-status")).to_have_text("Closed", timeout=LIVE)
    expect(page_a.get_by_label("Your message")).to_be_hidden()
    expect(
        page_a.get_by_text("This negotiation is closed. Reopen it to write again.")
    ).to_be_visible()
    page_a.get_by_role("button", name="Reopen the negotiation").click()
    expect(page_a.get_by_test_id("room-status")).to_have_text("Open")
    expect(page_a.get_by_label("Your message")).to_be_visible()
    expect(page_o.get_by_test_id("room-status")).to_have_text("Open", timeout=LIVE)
    expect(page_o.get_by_label("Your message")).to_be_visible()

    for problems in (problems_a, problems_o):
        assert_no_problems(problems)


def test_negotiation_of_suspended_exhibitor_turns_read_only_and_back(new_context):
    from exhibitors import services as exhibitor_services
    from tests.factories import make_organiser

    exhibitor = make_exhibitor(name="Lantern Works")
    owner = owner_of(exhibitor)
    khalid = make_buyer(full_name="Khalid Alsaud", company="Gulf Trading")
    room, _created = nego_services.negotiation_open(buyer=khalid, exhibitor_id=exhibitor.pk)
    nego_services.quote_send(
        user=owner, negotiation_id=room.pk, client_id="quote-before-suspension", data=quote_data()
    )
    organiser = make_organiser()
    room_path = reverse("negotiations:room", args=[room.pk])
    page, problems = sign_in(new_context, email=khalid.email, path=room_path)
    room_ready(page)
    notice = page.locator("[data-nego-read-only-note]")
    expect(notice).to_be_hidden()

    # Suspended while the page is open: the next send is refused and the room turns read-only.
    exhibitor_services.exhibitor_suspend(
        actor=organiser, exhibitor_id=exhibitor.pk, reason="Fake certificates"
    )
    page.get_by_label("Your message").fill("Are you still there?")
    page.get_by_label("Your message").press("Enter")
    expect(notice).to_be_visible(timeout=LIVE)
    expect(notice).to_contain_text("the conversation is read-only")
    refused = message(page, "Are you still there?")
    expect(refused).to_contain_text("Not sent.")
    expect(refused).to_contain_text("This exhibitor is suspended; the conversation is read-only.")
    expect(page.locator("[data-nego-compose]")).to_be_hidden()
    expect(page.locator("[data-nego-quote-box]")).to_be_hidden()
    expect(log(page).get_by_role("button", name="Accept")).to_have_count(0)
    refused.get_by_role("button", name="Discard").click()
    expect(refused).to_have_count(0)

    # A reload shows the history, the notice and no composer.
    page.reload()
    room_ready(page)
    expect(notice).to_be_visible()
    expect(page.locator("[data-nego-compose]")).to_be_hidden()
    expect(log(page).locator("[data-quote-card]")).to_have_count(1)

    # Reinstated: the composer is back and the message goes through.
    exhibitor_services.exhibitor_reinstate(actor=organiser, exhibitor_id=exhibitor.pk)
    page.reload()
    room_ready(page)
    expect(notice).to_be_hidden()
    page.get_by_label("Your message").fill("Glad you are back.")
    page.get_by_label("Your message").press("Enter")
    expect(message(page, "Glad you are back.")).not_to_contain_text("Sending", timeout=LIVE)
    assert Message.objects.filter(negotiation=room, body="Glad you are back.").count() == 1
    assert not Message.objects.filter(negotiation=room, body="Are you still there?").exists()
    assert_no_problems(problems)
