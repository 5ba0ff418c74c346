"""Attachments are judged by content, stored privately under generated names, and refused
files leave nothing behind (SECURITY F1-F5, F7, F9)."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from fair.exceptions import NotFound
from negotiations import services
from negotiations.models import Attachment, Message
from negotiations.uploads import MAX_ATTACHMENT_BYTES, attachment_clean, safe_file_name
from tests.exhibitors.factories import jpeg_bytes, owner_of, pdf_bytes, png_bytes, upload
from tests.factories import make_buyer
from tests.negotiations.nego_factories import client_id, make_room

pytestmark = pytest.mark.django_db

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["SKU", "Price"])
    book.active.append(["TV-55", 182.5])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def send_file(room, user, name: str, content: bytes, cid: str | None = None):
    return services.attachment_send(
        user=user,
        negotiation_id=room.pk,
        client_id=cid or client_id(),
        upload=upload(name, content),
    )


def stored_files(room) -> set[str]:
    """The files in the room's storage folder (compared before and after: on SQLite a later
    test's room may reuse an id, and files do not roll back with the database)."""
    storage = Attachment._meta.get_field("file").storage
    folder = f"negotiations/{room.pk}"
    if not storage.exists(folder):
        return set()
    return set(storage.listdir(folder)[1])


# --- Accepted -------------------------------------------------------------------------------


def test_pdf_attachment_stored_privately_with_checksum_and_safe_name():
    room = make_room()
    content = pdf_bytes()

    message, created = send_file(room, room.buyer, "Specs ‮fdp.exe (v2).pdf", content)

    attachment = message.attachment
    assert (created, message.kind, message.seq, message.side) == (True, "attachment", 2, "buyer")
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.safe_name == "Specs fdp_exe (v2).pdf"
    assert attachment.original_name == "Specs ‮fdp.exe (v2).pdf"
    assert attachment.file.name.startswith(f"negotiations/{room.pk}/")
    assert "Specs" not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == content
    # Private storage: no public URL of its own.
    assert "media-test-private" in attachment.file.storage.location


def test_image_attachment_is_re_encoded_without_exif():
    room = make_room()
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00"
    content = jpeg_bytes(exif=exif) + b"<script>alert(1)</script>"

    message, _ = send_file(room, owner_of(room.exhibitor), "photo.jpeg", content)

    attachment = message.attachment
    data = attachment.file.read()
    assert attachment.content_type == "image/jpeg"
    assert attachment.safe_name == "photo.jpg"
    assert b"<script>" not in data and b"Exif" not in data
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()


def test_png_xlsx_and_csv_accepted():
    room = make_room()

    png, _ = send_file(room, room.buyer, "logo.png", png_bytes(mode="RGBA"))
    xlsx, _ = send_file(room, room.buyer, "prices.xlsx", xlsx_bytes())
    csv, _ = send_file(room, room.buyer, "prices.csv", b"SKU;Price\nTV-55;182,5\n")

    assert [m.attachment.content_type for m in (png, xlsx, csv)] == [
        "image/png",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/csv",
    ]
    assert [m.seq for m in (png, xlsx, csv)] == [2, 3, 4]


def test_attachment_send_is_idempotent_and_keeps_one_file():
    room = make_room()
    cid = client_id()
    before = stored_files(room)

    first, created = send_file(room, room.buyer, "a.pdf", pdf_bytes(), cid)
    again, created_again = send_file(room, room.buyer, "a.pdf", pdf_bytes(), cid)

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Attachment.objects.count() == 1
    assert stored_files(room) - before == {first.attachment.file.name.rsplit("/", 1)[1]}


# --- Refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("specs.pdf", ELF, "not_a_pdf"),
        ("specs.pdf", PE, "not_a_pdf"),
        ("specs.pdf", SCRIPT, "not_a_pdf"),
        ("logo.png", PE, "not_an_image"),
        ("logo.png", b"<html><script>alert(1)</script></html>", "not_an_image"),
        ("prices.xlsx", PE, "not_xlsx"),
        ("prices.xlsx", zip_bytes({"hello.txt": b"hi"}), "not_xlsx"),
        ("prices.csv", SCRIPT, "not_csv"),
        ("prices.csv", ELF, "not_csv"),
        ("prices.csv", PE, "not_csv"),
        ("prices.csv", b"<html><body>hi</body></html>", "not_csv"),
        ("prices.csv", "Preis;Menge\n".encode("utf-16-le"), "not_csv"),
        ("setup.exe", PE, "unsupported"),
        ("evil.jpg.php", jpeg_bytes(), "unsupported"),
        ("drawing.svg", b"<svg><script>alert(1)</script></svg>", "unsupported"),
        ("noextension", pdf_bytes(), "unsupported"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_disguised_or_unsupported_files_refused_and_nothing_stored(name, content, code):
    room = make_room()
    before = stored_files(room)

    with pytest.raises(ValidationError) as error:
        send_file(room, room.buyer, name, content)

    assert error.value.code == code
    assert Message.objects.filter(kind="attachment").count() == 0
    assert stored_files(room) == before
    room.refresh_from_db()
    assert room.last_seq == 1


@pytest.mark.parametrize(
    "marker",
    [b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/Encrypt", b"/J#61vaScript"],
)
def test_pdf_with_active_content_refused(marker):
    content = b"%PDF-1.7\n1 0 obj<< /OpenAction << /S " + marker + b" >> >>endobj\n%%EOF\n"

    with pytest.raises(ValidationError) as error:
        attachment_clean(io.BytesIO(content), name="offer.pdf")

    assert error.value.code == "active_pdf"


def test_macro_workbook_and_zip_bomb_refused():
    macro = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/vbaProject.bin": b"\x00" * 10,
        }
    )
    bomb = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sheet.xml": b"\x00" * (30 * 1024 * 1024),
        }
    )

    with pytest.raises(ValidationError) as macro_error:
        attachment_clean(io.BytesIO(macro), name="m.xlsx")
    with pytest.raises(ValidationError) as bomb_error:
        attachment_clean(io.BytesIO(bomb), name="b.xlsx")

    assert (macro_error.value.code, bomb_error.value.code) == ("macro_workbook", "zip_bomb")


def test_file_over_20_mb_refused_before_reading():
    big = upload("big.pdf", b"%PDF-1.4\n" + b"0" * MAX_ATTACHMENT_BYTES + b"\n%%EOF\n")

    with pytest.raises(ValidationError) as error:
        attachment_clean(big, name="big.pdf")

    assert error.value.code == "too_large"


def test_attachment_by_non_party_not_found_before_the_file_is_judged():
    room = make_room()
    before = stored_files(room)

    with pytest.raises(NotFound):
        send_file(room, make_buyer(), "specs.pdf", ELF)

    assert stored_files(room) == before


@pytest.mark.parametrize(
    ("original", "extension", "safe"),
    [
        ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
        ("C:\\Users\\me\\Quote.PDF", "pdf", "Quote.pdf"),
        ("x.php%00.jpg", "jpg", "x_php_00.jpg"),
        ("evil.php.jpg", "jpg", "evil_php.jpg"),
        ("報價單 2026.xlsx", "xlsx", "報價單 2026.xlsx"),
        ("a" * 300 + ".pdf", "pdf", "a" * 96 + ".pdf"),
        ("...pdf", "pdf", "attachment.pdf"),
        ("photo.png", "jpg", "photo.jpg"),
    ],
)
def test_safe_file_name(original, extension, safe):
    assert safe_file_name(original, extension) == safe
