"""Uploads are judged by content: a hostile corpus is refused, good files are re-encoded."""

from __future__ import annotations

import io
import struct

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fair.uploads import MAX_IMAGE_BYTES, document_clean, glb_clean, image_clean, pdf_clean


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def _png(size=(40, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


HOSTILE_IMAGES = {
    "html named jpg": ("photo.jpg", b"<html><script>alert(1)</script></html>"),
    "svg with script": (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "elf named png": ("logo.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 64),
    "shell script named jpg": ("x.php.jpg", b"#!/bin/sh\nrm -rf /\n"),
    "pdf named png": ("doc.png", b"%PDF-1.4\n%%EOF"),
    "empty file": ("empty.png", b""),
    "truncated png": ("cut.png", _png()[:40]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_IMAGES))
def test_image_clean_hostile_file_is_refused(case):
    name, data = HOSTILE_IMAGES[case]
    with pytest.raises(ValidationError) as raised:
        image_clean(_file(name, data))
    assert raised.value.messages == ["This file is not a JPEG, PNG or WebP image we can read."]


def test_image_clean_gif_is_refused_even_though_pillow_reads_it():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(ValidationError):
        image_clean(_file("anim.gif", buffer.getvalue()))


def test_image_clean_pixel_flood_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, format="PNG")  # 48 MP in a few KB
    assert len(buffer.getvalue()) < 1_000_000
    with pytest.raises(ValidationError) as raised:
        image_clean(_file("flood.png", buffer.getvalue()))
    assert raised.value.code == "too_many_pixels"
    assert raised.value.messages == ["The image has 48 megapixels; the limit is 40."]


def test_image_clean_over_10_mb_refused():
    data = _png() + b"\x00" * (MAX_IMAGE_BYTES + 1)
    with pytest.raises(ValidationError) as raised:
        image_clean(_file("big.png", data))
    assert raised.value.code == "too_large"


def test_image_clean_polyglot_png_with_html_is_reencoded_without_it():
    data = _png() + b"<html><script>alert(document.cookie)</script></html>"
    cleaned = image_clean(_file("poly.png", data))
    content = cleaned.file.read()
    assert b"<script>" not in content
    assert content[:3] == b"\xff\xd8\xff"  # JPEG now
    assert (cleaned.width, cleaned.height) == (40, 30)


def test_image_clean_name_is_generated_never_the_uploaders():
    cleaned = image_clean(_file("../../../../etc/cron.d/evil.png", _png()))
    assert "/" not in cleaned.file.name and "evil" not in cleaned.file.name
    assert cleaned.file.name.endswith(".jpg")


def test_image_clean_transparent_png_stays_png_and_max_side_applies():
    cleaned = image_clean(_file("logo.png", _png((1000, 500), "RGBA")), max_side=200)
    assert cleaned.file.name.endswith(".png")
    assert (cleaned.width, cleaned.height) == (200, 100)


def test_pdf_clean_accepts_pdf_and_refuses_other():
    good = pdf_clean(SimpleUploadedFile("a.pdf", b"%PDF-1.7\n...\n%%EOF\n"))
    assert good.name.endswith(".pdf")
    for data in (b"<html>%PDF-</html>", b"MZ\x90\x00", b"%PDF-1.4 but never ends"):
        with pytest.raises(ValidationError):
            pdf_clean(SimpleUploadedFile("a.pdf", data))


def test_document_clean_takes_pdf_or_image_only():
    assert document_clean(SimpleUploadedFile("l.pdf", b"%PDF-1.4\n%%EOF")).name.endswith(".pdf")
    assert document_clean(_file("l.png", _png())).name.endswith(".jpg")
    with pytest.raises(ValidationError) as raised:
        document_clean(SimpleUploadedFile("l.pdf", b"PK\x03\x04 a zip"))
    assert raised.value.messages == ["Upload a PDF or a JPEG, PNG or WebP image."]


def test_glb_clean_checks_magic_version_and_length():
    body = b'{"asset":{"version":"2.0"}}'
    glb = struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
    assert glb_clean(SimpleUploadedFile("m.glb", glb)).name.endswith(".glb")
    wrong_length = struct.pack("<4sII", b"glTF", 2, 999) + body
    wrong_version = struct.pack("<4sII", b"glTF", 1, 12 + len(body)) + body
    for data in (wrong_length, wrong_version, b"glTF", b"<html>"):
        with pytest.raises(ValidationError):
            glb_clean(SimpleUploadedFile("m.glb", data))


def test_image_clean_20000_square_flood_refused_with_clear_message():
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    with pytest.raises(ValidationError) as raised:
        image_clean(_file("flood.png", buffer.getvalue()))
    assert raised.value.code == "too_many_pixels"
