"""Permission-matrix rows of the fair core's organisers' area (/organiser/...) and the
public announcements list."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from fair.models import Announcement, AuditEntry, Category, FairEdition, Hall
from tests.matrix_common import Row, World, everyone, organiser_only

ORG = "organiser:"


def _edition(w: World) -> FairEdition:
    edition = getattr(w, "_org_edition", None)
    if edition is None:
        edition = FairEdition.objects.create(
            name="Matrix Fair",
            slug="matrix-fair",
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(days=10),
        )
        w._org_edition = edition
    return edition


def _hall(w: World) -> Hall:
    hall = getattr(w, "_org_hall", None)
    if hall is None:
        hall = Hall.objects.create(edition=_edition(w), code="M1", name="Matrix hall")
        w._org_hall = hall
    return hall


def _announcement(w: World) -> Announcement:
    announcement = getattr(w, "_org_announcement", None)
    if announcement is None:
        announcement = Announcement.objects.create(title="Matrix announcement")
        w._org_announcement = announcement
    return announcement


def _category(w: World) -> Category:
    return Category.objects.get(slug="lighting-electrical")


def _unchanged(w: World) -> None:
    """A refused write leaves the organisers' objects and the audit log as they were."""
    assert not AuditEntry.objects.filter(
        action__regex=r"^(edition|category|hall|announcement)\."
    ).exists()
    assert FairEdition.objects.filter(name="Hacked").count() == 0
    assert Hall.objects.filter(pk=_hall(w).pk).exists()
    assert Announcement.objects.get(pk=_announcement(w).pk).withdrawn_at is None
    assert not Category.objects.filter(name="Hacked").exists()
    assert not Announcement.objects.filter(title="Hacked").exists()


def _edition_post(w: World) -> dict:
    start = timezone.localtime() + timedelta(days=30)
    return {
        "name": "New edition",
        "slug": f"new-edition-{w.exhibitor.pk}",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "Asia/Shanghai",
    }


ROWS: list[Row] = [
    Row(ORG + "home", "get", lambda w: reverse(ORG + "home"), organiser_only(302)),
    Row(ORG + "dashboard", "get", lambda w: reverse(ORG + "dashboard"), organiser_only()),
    Row(
        ORG + "dashboard_figures",
        "get",
        lambda w: reverse(ORG + "dashboard_figures"),
        organiser_only(),
    ),
    Row(ORG + "editions", "get", lambda w: reverse(ORG + "editions"), organiser_only()),
    Row(
        ORG + "editions",
        "post",
        lambda w: reverse(ORG + "editions"),
        organiser_only(302),
        data=_edition_post,
        check=_unchanged,
    ),
    Row(
        ORG + "edition_edit",
        "post",
        lambda w: reverse(ORG + "edition_edit", args=[_edition(w).pk]),
        organiser_only(302),
        data=lambda w: {**_edition_post(w), "name": "Hacked", "slug": "matrix-fair"},
        check=_unchanged,
    ),
    Row(ORG + "categories", "get", lambda w: reverse(ORG + "categories"), organiser_only()),
    Row(ORG + "category_new", "get", lambda w: reverse(ORG + "category_new"), organiser_only()),
    Row(
        ORG + "category_edit",
        "post",
        lambda w: reverse(
            ORG + "category_edit", args=[Category.objects.get(slug="lighting-electrical").pk]
        ),
        organiser_only(200),  # the organiser's post is invalid on purpose: the form answers
        data=lambda w: {"kind": "category", "name": "Hacked", "slug": ""},
        check=_unchanged,
    ),
    Row(ORG + "halls", "get", lambda w: reverse(ORG + "halls"), organiser_only()),
    Row(ORG + "hall_new", "get", lambda w: reverse(ORG + "hall_new"), organiser_only()),
    Row(
        ORG + "hall_edit",
        "get",
        lambda w: reverse(ORG + "hall_edit", args=[_hall(w).pk]),
        organiser_only(),
    ),
    Row(
        ORG + "hall_delete",
        "post",
        lambda w: reverse(ORG + "hall_delete", args=[_hall(w).pk]),
        organiser_only(302),
        check=_unchanged,
    ),
    Row(ORG + "announcements", "get", lambda w: reverse(ORG + "announcements"), organiser_only()),
    Row(
        ORG + "announcements",
        "post",
        lambda w: reverse(ORG + "announcements"),
        organiser_only(302),
        data=lambda w: {"title": "Hacked", "audience": "everyone"},
        check=_unchanged,
    ),
    Row(
        ORG + "announcement_withdraw",
        "post",
        lambda w: reverse(ORG + "announcement_withdraw", args=[_announcement(w).pk]),
        organiser_only(302),
        check=_unchanged,
    ),
    Row(ORG + "audit", "get", lambda w: reverse(ORG + "audit"), organiser_only()),
    Row("announcements", "get", lambda w: reverse("announcements"), everyone(200)),
]
