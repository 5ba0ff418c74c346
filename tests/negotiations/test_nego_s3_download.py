"""Attachments in real S3 storage (SeaweedFS on loopback): stored under a random private key,
and downloaded only through a presigned URL that the permission-checked view issues, valid
for at most five minutes, carrying the attachment headers (SECURITY A10, F10)."""

from __future__ import annotations

import importlib.util
import sys
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from storages.backends.s3 import S3Storage

from negotiations import services
from negotiations.models import Attachment
from tests.exhibitors.factories import pdf_bytes, upload
from tests.factories import make_buyer
from tests.negotiations.nego_factories import client_id, make_room

pytestmark = pytest.mark.django_db

REPO_DIR = Path(__file__).resolve().parents[2]


def _load_s3server():
    if "s3server" in sys.modules:
        return sys.modules["s3server"]
    spec = importlib.util.spec_from_file_location("s3server", REPO_DIR / "tests" / "s3server.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["s3server"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    s3server = _load_s3server()
    server = s3server.start(tmp_path_factory.mktemp("seaweedfs-nego"), bucket="nego-test")
    yield server
    s3server.stop(server)


@pytest.fixture
def s3_attachments(s3_server):
    """Attachments stored in the S3 server, configured as production configures the private
    storage (fair/settings/base.py), for this test only."""
    field = Attachment._meta.get_field("file")
    local = field.storage
    field.storage = S3Storage(
        bucket_name=s3_server.bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        endpoint_url=s3_server.endpoint_url,
        region_name="us-east-1",
        addressing_style="path",
        signature_version="s3v4",
        file_overwrite=False,
        default_acl=None,
        querystring_auth=True,
        querystring_expire=300,
        location="private",
    )
    yield field.storage
    field.storage = local


def test_s3_download_redirects_to_a_short_presigned_url_for_parties_only(s3_attachments):
    room = make_room()
    message, _ = services.attachment_send(
        user=room.buyer,
        negotiation_id=room.pk,
        client_id=client_id(),
        upload=upload("Offer 2026.pdf", pdf_bytes()),
    )
    attachment = message.attachment
    url = reverse("negotiations:attachment_download", args=[attachment.pk])
    party, outsider = Client(), Client()
    party.force_login(room.buyer)
    outsider.force_login(make_buyer())

    response = party.get(url)
    refused = outsider.get(url)

    assert attachment.file.name.startswith(f"negotiations/{room.pk}/")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert "/private/negotiations/" in urlsplit(location).path
    with urllib.request.urlopen(location, timeout=10) as fetched:  # noqa: S310 (loopback S3)
        assert fetched.read() == pdf_bytes()
        assert fetched.headers["Content-Type"] == "application/pdf"
        assert fetched.headers["Content-Disposition"].startswith(
            'attachment; filename="Offer 2026.pdf"'
        )
    assert refused.status_code == 404
    assert "Location" not in refused
    assert b"X-Amz" not in refused.content and b"Offer" not in refused.content
