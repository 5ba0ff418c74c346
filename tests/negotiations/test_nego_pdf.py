"""The room's transcript as PDF: either party downloads it (parsed back with pypdf), in their
time zone, with every message, the quotes and the intents; Chinese, Arabic and Cyrillic are
printed with embedded fonts; non-parties get the same 404 as for a missing room."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from pypdf import PdfReader

from negotiations import services
from negotiations.models import Message
from negotiations.pdf import MISSING_GLYPH, is_rtl, printable
from tests.exhibitors.factories import pdf_bytes, upload
from tests.negotiations.nego_factories import NON_PARTIES, Cast, client_id, make_quote, send

SECRET = "Target price 4711 per unit"
CHINESE = "我们可以提供每台一百二十美元的价格"
RUSSIAN = "Нужна доставка в Ростов-на-Дону"
ARABIC = "مرحبا، هل يمكنكم تقديم عرض سعر"


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _squash(text: str) -> str:
    """Extracted text without whitespace and with presentation forms folded (Arabic comes
    out of a PDF as the shaped glyphs' compatibility characters)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _fonts(content: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(content))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


@pytest.fixture
def cast(db, django_capture_on_commit_callbacks):
    cast = Cast()
    with django_capture_on_commit_callbacks(execute=True):
        send(cast.buyer, cast.room, SECRET)
        send(cast.sales, cast.room, CHINESE)
        send(cast.buyer, cast.room, RUSSIAN)
        send(cast.buyer, cast.room, ARABIC)
        services.attachment_send(
            user=cast.buyer,
            negotiation_id=cast.room.pk,
            client_id=client_id(),
            upload=upload("price-list-secret.pdf", pdf_bytes()),
        )
        quote = make_quote(cast.owner, cast.room, port="Shenzhen 深圳")
        services.quote_accept(user=cast.buyer, quote_id=quote.pk)
    cast.quote = quote
    return cast


def test_transcript_pdf_buyer_downloads_every_message_quote_and_intent(client, cast):
    client.force_login(cast.buyer)

    response = client.get(reverse("negotiations:transcript_pdf", args=[cast.room.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="negotiation-{cast.room.pk}-transcript.pdf"; '
        f"filename*=UTF-8''negotiation-{cast.room.pk}-transcript.pdf"
    )
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    text = _pdf_text(response.content)
    squashed = _squash(text)
    for expected in (
        SECRET,
        CHINESE,
        RUSSIAN,
        "Anne Buyer",
        "Anne Imports",
        cast.exhibitor.display_name,
        "Attachment: price-list-secret.pdf",
        "Quote version 1",
        "55-inch 4K Smart TV",
        "500 pieces",
        "182.5 USD",
        "91250.00 USD",  # the total and the purchase intent
        "30% deposit, 70% against B/L copy",
        "Shenzhen 深圳",
        "Purchase intents",
        "from quote version 1",
    ):
        assert _squash(expected) in squashed, expected
    # Arabic (shaped with HarfBuzz, laid out right to left) reads back in logical order.
    arabic = next(
        unicodedata.normalize("NFKC", line)
        for line in text.splitlines()
        if "عرض" in unicodedata.normalize("NFKC", line)
    )
    assert arabic.strip() == ARABIC
    assert _fonts(response.content) == {"DejaVuSansBook", "DejaVuSansBold", "DroidSansFallback"}


def test_transcript_pdf_exhibitor_staff_get_the_same_transcript(client, cast):
    client.force_login(cast.sales)

    response = client.get(reverse("negotiations:transcript_pdf", args=[cast.room.pk]))

    assert response.status_code == 200
    assert _squash(SECRET) in _squash(_pdf_text(response.content))


def test_transcript_pdf_times_are_in_the_downloaders_time_zone(client, cast):
    cast.buyer.time_zone = "America/Sao_Paulo"
    cast.buyer.save(update_fields=["time_zone"])
    opened = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
    type(cast.room).objects.filter(pk=cast.room.pk).update(created_at=opened)
    Message.objects.filter(negotiation=cast.room, seq=2).update(created_at=opened)
    client.force_login(cast.buyer)

    text = _pdf_text(
        client.get(reverse("negotiations:transcript_pdf", args=[cast.room.pk])).content
    )

    assert "America/Sao_Paulo" in text
    assert "2026-06-14 23:30" in text  # UTC-3: the evening before
    assert "#2 · 2026-06-14 23:30" in text
    assert "2026-06-15 02:30" not in text


@pytest.mark.parametrize("role", NON_PARTIES)
def test_transcript_pdf_non_party_gets_not_found_and_nothing_leaks(client, cast, role):
    user = cast.role(role)
    if user is not None:
        client.force_login(user)

    response = client.get(reverse("negotiations:transcript_pdf", args=[cast.room.pk]))

    if role == "anon":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 404
    body = response.content.decode(errors="replace")
    for secret in (SECRET, "price-list-secret", "Anne Buyer", cast.buyer.email, "%PDF"):
        assert secret not in body


def test_transcript_pdf_missing_room_is_the_same_not_found(client, cast):
    client.force_login(cast.other_buyer)
    foreign_url = reverse("negotiations:transcript_pdf", args=[cast.room.pk])
    missing_url = reverse("negotiations:transcript_pdf", args=[cast.room.pk + 10_000])

    foreign, missing = client.get(foreign_url), client.get(missing_url)

    assert (foreign.status_code, missing.status_code) == (404, 404)
    # The same page (its main part: the rest carries tokens, the clock and the address).
    main = re.compile(rb"<main.*?</main>", re.S)
    assert main.search(foreign.content).group(0) == main.search(missing.content).group(0)


def test_transcript_pdf_characters_no_font_has_are_boxed_not_dropped(client, cast):
    send(cast.buyer, cast.room, "Korean 한국어 ok")
    client.force_login(cast.buyer)

    text = _pdf_text(
        client.get(reverse("negotiations:transcript_pdf", args=[cast.room.pk])).content
    )

    assert f"Korean {MISSING_GLYPH * 3} ok" in text


def test_printable_drops_control_characters_and_keeps_marks():
    assert printable("a\x00b\x07c\td") == "abc d"
    assert printable("cafe\u0301") == "cafe\u0301"
    assert printable("🙂") == MISSING_GLYPH


def test_is_rtl_follows_the_first_strong_character():
    assert is_rtl(ARABIC) is True
    assert is_rtl("123 " + ARABIC) is True
    assert is_rtl("Price " + ARABIC) is False
    assert is_rtl("2026") is False
