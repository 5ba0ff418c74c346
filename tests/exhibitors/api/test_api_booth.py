"""The booth of the caller's company: read, update (with images), publish."""

from __future__ import annotations

import pytest

from exhibitors.models import Booth
from tests.exhibitors.factories_api import (
    OTHER_SECTION,
    OUTSIDERS,
    SECTION,
    build_fair,
    category_ref,
    client_for,
    drf_time,
    html_as_jpeg,
    jpeg_upload,
    publish_booth,
)

pytestmark = pytest.mark.django_db

SALES_DENIED = "Sales staff cannot change the booth or the catalogue."


@pytest.fixture
def fair(db):
    return build_fair()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def booth_url(exhibitor_id: int, action: str = "") -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/booth/{action}"


def booth_state(exhibitor) -> dict:
    booth = Booth.objects.get(exhibitor=exhibitor)
    return {
        "tagline": booth.tagline,
        "story": booth.story,
        "logo": booth.logo.name,
        "section_id": booth.section_id,
        "contact_email": booth.contact_email,
        "is_published": booth.is_published,
    }


def assert_denied(response, role: str) -> None:
    if role == "anonymous":
        assert response.status_code == 403
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    elif role in OUTSIDERS:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": SALES_DENIED}


# --- Read --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "sales"])
def test_booth_detail_staff_reads_unpublished_booth_with_contact(fair, role):
    client_for(fair.owner).patch(
        booth_url(fair.company.pk, "update/"),
        {"tagline": "Draft tagline", "contact_email": "sales@acme.example"},
        format="json",
    )
    booth = Booth.objects.get(exhibitor=fair.company)

    response = client_for(fair.user(role)).get(booth_url(fair.company.pk))

    assert response.status_code == 200
    assert response.json() == {
        "tagline": "Draft tagline",
        "story": "",
        "logo_url": None,
        "banner_url": None,
        "panorama_url": None,
        "video_url": "",
        "section": None,
        "certificates": [],
        "contact_person": "",
        "contact_email": "sales@acme.example",
        "contact_phone": "",
        "is_published": False,
        "published_at": None,
        "updated_at": drf_time(booth.updated_at),
    }


@pytest.mark.parametrize("role", ["anonymous", *OUTSIDERS])
def test_booth_detail_denied_roles_see_nothing(fair, role):
    publish_booth(fair.company)

    response = client_for(fair.user(role)).get(booth_url(fair.company.pk))

    assert_denied(response, role)
    assert "sales@acme.example" not in response.content.decode()


# --- Update ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_booth_update_editor_saves_fields_and_logo(fair, media, role):
    response = client_for(fair.user(role)).patch(
        booth_url(fair.company.pk, "update/"),
        {
            "tagline": "Quiet fridges",
            "section": SECTION,
            "video_url": "https://video.example/intro.mp4",
            "logo": jpeg_upload("my logo.jpg", size=(1200, 600)),
        },
        format="multipart",
    )

    assert response.status_code == 200
    booth = Booth.objects.get(exhibitor=fair.company)
    assert booth.tagline == "Quiet fridges"
    assert booth.section.slug == SECTION
    assert booth.logo.name.startswith(f"booths/{fair.company.pk}/")
    assert "my logo" not in booth.logo.name
    assert (booth.logo.width, booth.logo.height) == (800, 400)
    body = response.json()
    assert body["logo_url"] == f"/media/{booth.logo.name}"
    assert body["section"] == category_ref(SECTION)
    assert body["video_url"] == "https://video.example/intro.mp4"
    assert body["is_published"] is False


def test_booth_update_json_sets_certificates_and_clears_section(fair):
    publish_booth(fair.company)

    response = client_for(fair.owner).patch(
        booth_url(fair.company.pk, "update/"),
        {"certificates": ["ISO 9001", "BSCI"], "section": None},
        format="json",
    )

    assert response.status_code == 200
    booth = Booth.objects.get(exhibitor=fair.company)
    assert booth.certificates == ["ISO 9001", "BSCI"]
    assert booth.section_id is None
    assert booth.tagline == "Appliances since 1998"


def test_booth_update_html_disguised_as_jpeg_is_refused_and_nothing_saved(fair, media):
    before = booth_state(fair.company)

    response = client_for(fair.owner).patch(
        booth_url(fair.company.pk, "update/"),
        {"tagline": "Should not be saved", "logo": html_as_jpeg("logo.jpg")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"logo": ["This file is not a JPEG, PNG or WebP image we can read."]}
    assert booth_state(fair.company) == before
    assert [path for path in media.rglob("*") if path.is_file()] == []


def test_booth_update_invalid_values_answer_400_with_field_messages(fair):
    before = booth_state(fair.company)

    response = client_for(fair.owner).patch(
        booth_url(fair.company.pk, "update/"),
        {
            "video_url": "http://video.example/intro.mp4",
            "section": "electronics-appliances",
            "certificates": "ISO 9001",
            "contact_email": "not-an-email",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "video_url": ["Use an https:// link."],
        "section": ["“electronics-appliances” is not an exhibition section."],
        "certificates": ['Expected a list of items but got type "str".'],
        "contact_email": ["Enter a valid email address."],
    }
    assert booth_state(fair.company) == before


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_booth_update_denied_roles_change_nothing(fair, media, role):
    publish_booth(fair.company)
    before = booth_state(fair.company)

    response = client_for(fair.user(role)).patch(
        booth_url(fair.company.pk, "update/"),
        {"tagline": "Hijacked", "logo": jpeg_upload()},
        format="multipart",
    )

    assert_denied(response, role)
    assert booth_state(fair.company) == before
    assert "sales@acme.example" not in response.content.decode()


# --- Publish -----------------------------------------------------------------------------


def test_booth_publish_owner_publishes_and_the_public_page_shows_it(fair):
    client_for(fair.owner).patch(
        booth_url(fair.company.pk, "update/"),
        {"tagline": "Quiet fridges", "section": OTHER_SECTION},
        format="json",
    )

    response = client_for(fair.admin).post(
        booth_url(fair.company.pk, "publish/"), {"published": True}, format="json"
    )

    assert response.status_code == 200
    booth = Booth.objects.get(exhibitor=fair.company)
    assert booth.is_published is True
    assert response.json()["is_published"] is True
    assert response.json()["published_at"] == drf_time(booth.published_at)
    public = client_for(None).get("/api/v1/exhibitors/acme-appliances/").json()
    assert public["booth"]["tagline"] == "Quiet fridges"


def test_booth_publish_false_hides_the_booth_again(fair):
    publish_booth(fair.company)

    response = client_for(fair.owner).post(
        booth_url(fair.company.pk, "publish/"), {"published": False}, format="json"
    )

    assert response.status_code == 200
    assert Booth.objects.get(exhibitor=fair.company).is_published is False
    public = client_for(None).get("/api/v1/exhibitors/acme-appliances/").json()
    assert public["booth"] is None


def test_booth_publish_incomplete_booth_answers_400(fair):
    response = client_for(fair.owner).post(
        booth_url(fair.company.pk, "publish/"), {"published": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Add a tagline or a story and an exhibition section before publishing.",
        "code": "booth_incomplete",
    }
    assert Booth.objects.get(exhibitor=fair.company).is_published is False


def test_booth_publish_without_flag_answers_400(fair):
    response = client_for(fair.owner).post(
        booth_url(fair.company.pk, "publish/"), {}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"published": ["This field is required."]}


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_booth_publish_denied_roles_change_nothing(fair, role):
    publish_booth(fair.company)

    response = client_for(fair.user(role)).post(
        booth_url(fair.company.pk, "publish/"), {"published": False}, format="json"
    )

    assert_denied(response, role)
    assert Booth.objects.get(exhibitor=fair.company).is_published is True
