"""Organisers' pages of the fair core: editions, categories, halls, announcements, the audit
log and the dashboard page; each decision leaves exactly one audit entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fair.audit import audit_record
from fair.models import Announcement, AuditEntry, Category, FairEdition, Hall
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser_client(client):
    organiser = make_organiser()
    client.force_login(organiser)
    client.organiser = organiser
    return client


def _local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_organiser_creates_an_edition_in_their_own_zone(organiser_client):
    organiser_client.organiser.time_zone = "Asia/Riyadh"
    organiser_client.organiser.save()

    response = organiser_client.post(
        reverse("organiser:editions"),
        {
            "name": "Autumn 2027",
            "slug": "autumn-2027",
            "starts_at": "2027-10-15T09:00",
            "ends_at": "2027-10-25T09:00",
            "time_zone": "Asia/Shanghai",
        },
    )

    assert response.status_code == 302
    edition = FairEdition.objects.get(slug="autumn-2027")
    # 09:00 in Riyadh (UTC+3) is 06:00 UTC.
    assert edition.starts_at.isoformat() == "2027-10-15T06:00:00+00:00"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id) == ("edition.create", str(edition.pk))


def test_edition_form_explains_a_close_before_the_opening(organiser_client):
    response = organiser_client.post(
        reverse("organiser:editions"),
        {
            "name": "Backwards",
            "slug": "backwards",
            "starts_at": "2027-10-15T09:00",
            "ends_at": "2027-10-14T09:00",
            "time_zone": "Asia/Shanghai",
        },
    )

    assert response.status_code == 200
    assert "The fair must close after it opens." in response.content.decode()
    assert not FairEdition.objects.filter(slug="backwards").exists()
    assert not AuditEntry.objects.exists()


def test_organiser_adds_a_section_with_translations(organiser_client):
    parent = Category.objects.get(slug="lighting-electrical")

    response = organiser_client.post(
        reverse("organiser:category_new"),
        {
            "kind": "section",
            "parent": parent.pk,
            "name": "Solar lamps",
            "slug": "solar-lamps",
            "position": 9,
            "name_zh_hans": "太阳能灯",
            "name_ar": "مصابيح شمسية",
        },
    )

    assert response.status_code == 302
    section = Category.objects.get(slug="solar-lamps")
    assert section.parent == parent
    assert section.names == {"zh-hans": "太阳能灯", "ar": "مصابيح شمسية"}
    assert AuditEntry.objects.get().action == "category.create"


def test_a_top_level_category_cannot_have_a_parent(organiser_client):
    parent = Category.objects.get(slug="lighting-electrical")
    response = organiser_client.post(
        reverse("organiser:category_new"),
        {"kind": "category", "parent": parent.pk, "name": "Odd", "slug": "odd", "position": 0},
    )
    assert response.status_code == 200
    assert "A product category is top-level" in response.content.decode()
    assert not Category.objects.filter(slug="odd").exists()


def test_hall_create_edit_delete_each_audited(organiser_client):
    edition = FairEdition.objects.create(
        name="Hall fair",
        slug="hall-fair",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=5),
    )
    section = Category.objects.get(slug="lighting-equipment")
    response = organiser_client.post(
        reverse("organiser:hall_new"),
        {
            "edition": edition.pk,
            "code": "11.1",
            "name": "Lighting",
            "position": 1,
            "sections": [section.pk],
        },
    )
    assert response.status_code == 302
    hall = Hall.objects.get(code="11.1")
    assert list(hall.sections.all()) == [section]

    duplicate = organiser_client.post(
        reverse("organiser:hall_new"),
        {"edition": edition.pk, "code": "11.1", "name": "Again", "position": 2},
    )
    assert duplicate.status_code == 200
    assert "already has a hall with this code" in duplicate.content.decode()

    organiser_client.post(reverse("organiser:hall_delete", args=[hall.pk]))
    assert not Hall.objects.exists()
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "hall.create",
        "hall.delete",
    ]


def test_announcement_form_publishes_and_lists(
    organiser_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            reverse("organiser:announcements"),
            {"title": "Hall 11 closes at 18:00", "body": "Lighting only.", "audience": "buyers"},
        )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert (announcement.audience, announcement.created_by) == (
        "buyers",
        organiser_client.organiser,
    )

    page = organiser_client.get(reverse("organiser:announcements")).content.decode()
    assert "Hall 11 closes at 18:00" in page

    empty = organiser_client.post(reverse("organiser:announcements"), {"audience": "buyers"})
    assert empty.status_code == 200
    assert "This field is required." in empty.content.decode()
    assert Announcement.objects.count() == 1


def test_audit_log_filters_by_action_and_person(organiser_client):
    other = make_organiser(email="second.organiser@example.test")
    audit_record(actor=organiser_client.organiser, action="hall.delete", target_label="Hall A")
    audit_record(actor=other, action="hall.create", target_label="Hall B")

    by_action = organiser_client.get(reverse("organiser:audit"), {"action": "hall.create"})
    by_person = organiser_client.get(reverse("organiser:audit"), {"who": "second.organiser"})

    assert "Hall B" in by_action.content.decode()
    assert "Hall A" not in by_action.content.decode()
    assert "Hall B" in by_person.content.decode()
    assert "Hall A" not in by_person.content.decode()


def test_dashboard_page_query_count_does_not_grow_with_data(organiser_client):
    url = reverse("organiser:dashboard")
    organiser_client.get(url)  # warms the snapshot cache

    with CaptureQueriesContext(connection) as few:
        assert organiser_client.get(url).status_code == 200
    for _ in range(30):
        make_buyer()
    with CaptureQueriesContext(connection) as many:
        assert organiser_client.get(url).status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries)


def test_dashboard_is_not_for_buyers(client):
    client.force_login(make_buyer())
    assert client.get(reverse("organiser:dashboard")).status_code == 404
    assert client.get(reverse("organiser:home")).status_code == 404
