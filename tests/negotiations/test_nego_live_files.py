"""Image previews (negotiations.views, ``attachment_preview``), the live navigation badge's JSON
(``negotiations:unread``) and tag, and the inboxes' live markup and previews (issue 6).

A preview is inline only for a verified image (stored type, name extension and first bytes
agree), with nosniff, a sandboxing CSP and five minutes of private caching; a PDF, a file
whose bytes are not the image it claims, and every download stay attachments. Non-parties get
the 404 of a missing file."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from negotiations import services
from negotiations.models import Attachment
from negotiations.pages.badge import _key as badge_key
from negotiations.views import verified_image
from tests.exhibitors.factories import (
    jpeg_bytes,
    make_exhibitor,
    owner_of,
    pdf_bytes,
    png_bytes,
    upload,
)
from tests.factories import make_buyer
from tests.negotiations.nego_factories import Cast, client_id, make_quote, make_room, send

pytestmark = pytest.mark.django_db

INLINE_CACHE = "private, max-age=300"


def transparent_png() -> bytes:
    """A PNG that stays a PNG (the upload check re-encodes opaque images as JPEG)."""
    return png_bytes(mode="RGBA", color=(200, 30, 30, 128))


SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture
def cast():
    return Cast()


def _send_file(room, user, name: str, content: bytes) -> Attachment:
    message, _created = services.attachment_send(
        user=user, negotiation_id=room.pk, client_id=client_id(), upload=upload(name, content)
    )
    return message.attachment


def _replace_stored_bytes(attachment: Attachment, content: bytes) -> None:
    """What a tampered or legacy file looks like: the row still claims what it claimed."""
    storage = attachment.file.storage
    name = attachment.file.name
    storage.delete(name)
    assert storage.save(name, ContentFile(content)) == name


def _preview(client, attachment):
    return client.get(reverse("negotiations:attachment_preview", args=[attachment.pk]))


def _download(client, attachment):
    return client.get(reverse("negotiations:attachment_download", args=[attachment.pk]))


# --- Previews -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "safe_name"),
    [
        ("Sample photo.png", transparent_png(), "image/png", "Sample photo.png"),
        ("lantern.JPEG", jpeg_bytes(), "image/jpeg", "lantern.jpg"),
    ],
)
def test_preview_verified_image_inline_with_safe_headers(
    client, cast, name, content, content_type, safe_name
):
    attachment = _send_file(cast.room, cast.buyer, name, content)
    client.force_login(cast.sales)

    response = _preview(client, attachment)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f"inline; filename=\"{safe_name}\"; filename*=UTF-8''{safe_name.replace(' ', '%20')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["Cache-Control"] == INLINE_CACHE
    with attachment.file.open("rb") as stored:
        assert response.content == stored.read()


def test_download_of_an_image_stays_an_attachment_never_cached(client, cast):
    attachment = _send_file(cast.room, cast.buyer, "photo.png", transparent_png())
    client.force_login(cast.buyer)

    response = _download(client, attachment)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="photo.png"')
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def test_preview_of_a_pdf_is_an_attachment(client, cast):
    attachment = _send_file(cast.room, cast.buyer, "offer.pdf", pdf_bytes())
    client.force_login(cast.owner)

    response = _preview(client, attachment)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="offer.pdf"')
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == SANDBOX
    assert response.content == pdf_bytes()


@pytest.mark.parametrize(
    "disguised",
    [
        pdf_bytes(),
        b"<html><script>alert(document.cookie)</script></html>",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        jpeg_bytes(),  # a real image, but not the PNG the row claims
    ],
    ids=["pdf", "html", "gif", "jpeg-as-png"],
)
def test_preview_of_a_file_whose_bytes_are_not_its_image_type_is_an_attachment(
    client, cast, disguised
):
    attachment = _send_file(cast.room, cast.buyer, "photo.png", transparent_png())
    _replace_stored_bytes(attachment, disguised)
    client.force_login(cast.buyer)

    response = _preview(client, attachment)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="photo.png"')
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == disguised


def test_preview_when_the_name_does_not_match_the_image_type_is_an_attachment(client, cast):
    attachment = _send_file(cast.room, cast.buyer, "photo.png", transparent_png())
    Attachment.objects.filter(pk=attachment.pk).update(safe_name="photo.html")
    client.force_login(cast.buyer)

    response = _preview(client, attachment)

    assert response["Content-Disposition"].startswith('attachment; filename="photo.html"')
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("content_type", "safe_name", "head", "inline"),
    [
        ("image/png", "a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, True),
        ("image/jpeg", "a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 12, True),
        ("image/jpeg", "a.jpeg", b"\xff\xd8\xff\xdb" + b"\x00" * 12, True),
        ("image/webp", "a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", True),
        ("image/webp", "a.webp", b"RIFF\x24\x00\x00\x00WAVEfmt ", False),
        ("image/png", "a.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, False),
        ("image/png", "png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, False),
        ("image/svg+xml", "a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", False),
        ("image/gif", "a.gif", b"GIF89a" + b"\x00" * 10, False),
        ("text/html", "a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, False),
        ("application/pdf", "a.pdf", b"%PDF-1.4\n", False),
        ("image/png", "a.png", b"", False),
    ],
)
def test_verified_image_needs_type_extension_and_signature(content_type, safe_name, head, inline):
    attachment = Attachment(content_type=content_type, safe_name=safe_name)

    assert verified_image(attachment, head) is inline


@pytest.mark.parametrize("role", ["other_buyer", "other_staff", "organiser"])
def test_preview_non_party_gets_the_missing_file_answer(client, cast, role):
    attachment = _send_file(cast.room, cast.buyer, "secret-sample.png", png_bytes())
    client.force_login(cast.role(role))

    response = _preview(client, attachment)
    missing = client.get(reverse("negotiations:attachment_preview", args=[attachment.pk + 999]))

    assert response.status_code == missing.status_code == 404
    assert "secret-sample" not in response.content.decode(errors="replace")
    assert "Content-Disposition" not in response


def test_preview_anonymous_is_sent_to_log_in(client, cast):
    attachment = _send_file(cast.room, cast.buyer, "sample.png", png_bytes())

    response = _preview(client, attachment)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_preview_needs_get(client, cast):
    attachment = _send_file(cast.room, cast.buyer, "sample.png", png_bytes())
    client.force_login(cast.buyer)

    response = client.post(reverse("negotiations:attachment_preview", args=[attachment.pk]))

    assert response.status_code == 405


def test_room_page_gives_the_script_the_preview_url_and_its_texts(client, cast):
    client.force_login(cast.buyer)

    body = client.get(reverse("negotiations:room", args=[cast.room.pk])).content.decode()

    assert 'data-preview-url="/negotiations/attachments/0/preview/"' in body
    assert 'data-text-open-image="Open {name} full size"' in body
    assert 'data-nav-unread-url="/negotiations/unread/"' in body
    assert "negotiations/js/nav.js" in body


# --- The badge's JSON and tag ---------------------------------------------------------------


def test_unread_json_counts_now_and_refreshes_the_cached_badge(client, cast):
    second = make_room(buyer=cast.buyer)
    client.force_login(cast.buyer)
    cache.set(badge_key(cast.buyer.pk), 0, 30)  # what an earlier page counted
    send(owner_of(second.exhibitor), second, "News")

    response = client.get(reverse("negotiations:unread"))

    assert response.status_code == 200
    assert response.json() == {"unread": 2}  # cast.room's context message, and the news
    assert response["Cache-Control"] == "private, no-store"
    assert cache.get(badge_key(cast.buyer.pk)) == 2


def test_unread_json_after_reading_a_room(client, cast):
    services.negotiation_mark_read(user=cast.buyer, negotiation_id=cast.room.pk, seq=1)
    client.force_login(cast.buyer)

    assert client.get(reverse("negotiations:unread")).json() == {"unread": 0}


def test_unread_json_counts_the_shared_inbox_for_staff_and_nothing_for_others(client, cast):
    make_room(exhibitor=cast.exhibitor)

    sales = client.get(reverse("negotiations:unread"), HTTP_ACCEPT="application/json")
    client.force_login(cast.sales)
    staff = client.get(reverse("negotiations:unread"))
    client.force_login(cast.organiser)
    organiser = client.get(reverse("negotiations:unread"))
    client.force_login(cast.other_staff)
    other = client.get(reverse("negotiations:unread"))

    assert sales.status_code == 403  # signed out: no redirect to a log-in page for a script
    assert sales.json() == {"detail": "Log in to see your negotiations."}
    assert staff.json() == {"unread": 2}
    assert organiser.json() == {"unread": 0}
    assert other.json() == {"unread": 0}


def test_unread_json_needs_get(client, cast):
    client.force_login(cast.buyer)

    assert client.post(reverse("negotiations:unread")).status_code == 405


def _nav_item(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load negotiation_tags %}{% nego_nav_item %}").render(
        Context({"request": request})
    )


def test_nav_item_tag_renders_the_link_and_badge(cast):
    send(cast.owner, cast.room, "News")
    cache.delete(badge_key(cast.buyer.pk))

    html = _nav_item(cast.buyer)

    assert 'data-testid="nav-negotiations" data-nego-nav' in html
    assert 'data-unread-url="/negotiations/unread/"' in html
    assert 'data-nego-nav-badge data-count="1"' in html
    assert '<span data-nego-nav-count>1</span><span class="visually-hidden"> unread</span>' in html
    assert "<script" not in html  # the live script is in base.html's head


def test_nav_item_tag_without_unread_has_no_badge(cast):
    services.negotiation_mark_read(user=cast.buyer, negotiation_id=cast.room.pk, seq=1)
    cache.delete(badge_key(cast.buyer.pk))

    html = _nav_item(cast.buyer)

    assert "data-nego-nav-badge" not in html
    assert 'data-text-unread="unread"' in html
    assert "<script" not in html  # its script is in base.html's head


def test_every_page_of_a_signed_in_buyer_loads_the_badge_script_in_its_head(client, cast):
    client.force_login(cast.buyer)

    head, body = client.get(reverse("home")).content.decode().split("</head>", 1)

    assert "negotiations/js/nav.js" in head
    assert "negotiations/js/nav.js" not in body


# --- The inboxes' previews and live markup --------------------------------------------------


def test_my_negotiations_rows_preview_the_last_message_as_text(client):
    buyer = make_buyer()
    texts = make_room(exhibitor=make_exhibitor(name="Texts Co"), buyer=buyer)
    files = make_room(exhibitor=make_exhibitor(name="Files Co"), buyer=buyer)
    quotes = make_room(exhibitor=make_exhibitor(name="Quotes Co"), buyer=buyer)
    opened = make_room(exhibitor=make_exhibitor(name="Opened Co"), buyer=buyer)
    send(owner_of(texts.exhibitor), texts, "<b>Price</b>   is\n9 USD")
    _send_file(files, buyer, "Specs v2.pdf", pdf_bytes())
    make_quote(owner_of(quotes.exhibitor), quotes)
    client.force_login(buyer)

    response = client.get(reverse("negotiations:list"))

    body = response.content.decode()
    previews = {row.pk: row.preview for row in response.context["rows"]}
    assert previews == {
        texts.pk: "<b>Price</b> is 9 USD",
        files.pk: "File: Specs v2.pdf",
        quotes.pk: "Quote v1",
        opened.pk: "Negotiation opened.",
    }
    assert "&lt;b&gt;Price&lt;/b&gt; is 9 USD" in body
    assert "<b>Price</b>" not in body


def test_inbox_preview_of_a_system_message_in_the_readers_language(client, cast):
    client.force_login(cast.owner)

    with translation.override("fr"):
        response = client.get(
            reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]),
            HTTP_ACCEPT_LANGUAGE="fr",
        )

    [row] = response.context["rows"]
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert row.preview == cast.room.messages.get(seq=1).text


def test_inbox_preview_is_clipped_to_one_line(client, cast):
    send(cast.buyer, cast.room, "word " * 100)
    client.force_login(cast.owner)

    response = client.get(reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]))

    [row] = response.context["rows"]
    assert len(row.preview) == 140
    assert row.preview.endswith("…")


def test_inbox_live_root_and_rows_carry_what_the_script_needs(client, cast):
    send(cast.buyer, cast.room, "Hello?")
    client.force_login(cast.owner)

    body = client.get(
        reverse("negotiations:exhibitor_inbox", args=[cast.exhibitor.pk]),
        {"view": "awaiting_us", "assigned": "none"},
    ).content.decode()

    assert (
        f'data-nego-live="exhibitor" data-side="exhibitor" data-viewer="{cast.owner.pk}" '
        f'data-exhibitor="{cast.exhibitor.pk}" data-page="1" data-filter="awaiting_us" '
        'data-assigned="none"'
    ) in body
    assert (
        f'data-nego-row data-negotiation="{cast.room.pk}" data-last-seq="2" data-read="0" '
        'data-status="open" data-last-speaker="buyer"'
    ) in body
    assert 'data-text-turn-buyer="Awaiting our reply"' in body
    assert 'data-nego-live-notice data-testid="live-notice" hidden' in body
    assert 'aria-live="polite" data-nego-live-announcer' in body
    assert "negotiations/js/inbox.js" in body


def test_my_negotiations_live_root_for_buyers_only(client, cast):
    client.force_login(cast.buyer)
    buyer = client.get(reverse("negotiations:list"), {"status": "open"}).content.decode()
    client.force_login(cast.organiser)
    organiser = client.get(reverse("negotiations:list")).content.decode()

    assert (
        f'data-nego-live="buyer" data-side="buyer" data-viewer="{cast.buyer.pk}" data-page="1" '
        'data-filter="open"'
    ) in buyer
    assert (
        f'data-nego-row data-negotiation="{cast.room.pk}" data-last-seq="1" data-read="0" '
        'data-status="open" data-last-speaker=""'
    ) in buyer
    assert "data-nego-live" not in organiser
    assert "negotiations/js/inbox.js" not in organiser
