"""Image previews with attachments in real S3 storage (SeaweedFS on loopback, the fixtures of
test_nego_s3_download): after the party check, a verified image's preview redirects to a
presigned URL whose answer is inline and privately cacheable for five minutes; a PDF's, or a
file whose first bytes are not its image type (read with one ranged request), stays an
attachment. The redirect itself is never cached (its URL expires)."""

from __future__ import annotations

import io
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from negotiations import services
from tests.exhibitors.factories import pdf_bytes, png_bytes, upload
from tests.factories import make_buyer
from tests.negotiations.nego_factories import client_id, make_room
from tests.negotiations.test_nego_s3_download import s3_attachments, s3_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _send(room, name: str, content: bytes):
    message, _created = services.attachment_send(
        user=room.buyer, negotiation_id=room.pk, client_id=client_id(), upload=upload(name, content)
    )
    return message.attachment


def _fetch(location: str):
    with urllib.request.urlopen(location, timeout=10) as fetched:  # noqa: S310 (loopback S3)
        return fetched.read(), fetched.headers


def test_s3_preview_of_a_verified_image_is_inline_and_cacheable(s3_attachments):  # noqa: F811
    room = make_room()
    attachment = _send(room, "Sample.png", png_bytes(mode="RGBA", color=(9, 9, 9, 100)))
    party, outsider = Client(), Client()
    party.force_login(room.buyer)
    outsider.force_login(make_buyer())
    url = reverse("negotiations:attachment_preview", args=[attachment.pk])

    response = party.get(url)
    refused = outsider.get(url)

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["300"]
    body, headers = _fetch(location)
    with attachment.file.open("rb") as stored:
        assert body == stored.read()
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith('inline; filename="Sample.png"')
    assert headers["Cache-Control"] == "private, max-age=300"
    assert refused.status_code == 404
    assert "Location" not in refused


def test_s3_preview_of_a_pdf_or_a_disguised_image_stays_an_attachment(s3_attachments):  # noqa: F811
    room = make_room()
    pdf = _send(room, "Offer.pdf", pdf_bytes())
    image = _send(room, "Sample.png", png_bytes(mode="RGBA", color=(9, 9, 9, 100)))
    storage = image.file.storage
    storage.delete(image.file.name)
    storage.save(image.file.name, io.BytesIO(b"<html><script>alert(1)</script></html>"))
    party = Client()
    party.force_login(room.buyer)

    for attachment, name in ((pdf, "Offer.pdf"), (image, "Sample.png")):
        response = party.get(reverse("negotiations:attachment_preview", args=[attachment.pk]))
        assert response.status_code == 302
        _body, headers = _fetch(response["Location"])
        assert headers["Content-Disposition"].startswith(f'attachment; filename="{name}"')
        assert headers["Cache-Control"] == "private, no-store"
