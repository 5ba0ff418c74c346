"""The fair core's part of the organisers' area: the append-only audit log, announcements
(service, banner, email batches) and the dashboard snapshot cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from fair import dashboard
from fair.announcements import announcement_publish, announcement_withdraw
from fair.audit import audit_record
from fair.exceptions import ApplicationError, Forbidden
from fair.models import Announcement, AuditEntry, FairEdition
from tests.factories import make_buyer, make_organiser, make_user

pytestmark = pytest.mark.django_db


# --- Audit log ---------------------------------------------------------------------------------


def test_audit_record_copies_actor_and_target():
    organiser = make_organiser()
    edition = FairEdition.objects.create(
        name="Spring 2027",
        slug="spring-2027",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=10),
    )

    entry = audit_record(
        actor=organiser, action="edition.update", target=edition, reason=" typo ", data={"a": 1}
    )

    entry.refresh_from_db()
    assert (entry.actor_id, entry.actor_email) == (organiser.pk, organiser.email)
    assert (entry.target_type, entry.target_id) == ("fair.fairedition", str(edition.pk))
    assert entry.target_label == "Spring 2027"
    assert entry.reason == "typo"
    assert entry.data == {"a": 1}


def test_audit_record_refuses_an_unknown_action():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(actor=None, action="exhibitor.delete_everything")
    assert AuditEntry.objects.count() == 0


def test_audit_log_refuses_update_and_delete_in_the_database():
    entry = audit_record(actor=make_organiser(), action="hall.delete", target_label="Hall 1")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()

    entry.refresh_from_db()
    assert entry.reason == ""
    assert AuditEntry.objects.count() == 1


def test_audit_entry_outlives_its_actor_account():
    organiser = make_organiser()
    audit_record(actor=organiser, action="hall.delete", target_label="Hall 2")
    email = organiser.email

    organiser.delete()

    entry = AuditEntry.objects.get()
    assert entry.actor_email == email
    assert entry.target_label == "Hall 2"


# --- Announcements -------------------------------------------------------------------------------


def test_only_organisers_publish_announcements():
    for user in (make_buyer(), make_user()):
        with pytest.raises(Forbidden):
            announcement_publish(actor=user, title="Free shipping week")
    assert Announcement.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_publish_stores_audits_and_emails_in_batches(settings, django_capture_on_commit_callbacks):
    settings.ANNOUNCEMENT_EMAIL_BATCH = 2
    organiser = make_organiser()
    buyers = [make_buyer() for _ in range(4)]
    inactive = make_buyer()
    inactive.is_active = False
    inactive.save()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        announcement = announcement_publish(
            actor=organiser,
            title="Phase 2 opens tomorrow",
            body="Lighting and electronics move to hall 11.",
            audience="everyone",
            send_email=True,
        )

    announcement.refresh_from_db()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([organiser.email, *(b.email for b in buyers)])
    assert all("Phase 2 opens tomorrow" in m.subject for m in mail.outbox)
    assert (announcement.email_total, announcement.email_sent) == (5, 5)
    assert announcement.email_status == Announcement.EmailStatus.SENT
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "announcement.publish",
        organiser.pk,
        str(announcement.pk),
    )
    assert entry.data == {"audience": "everyone", "email": True}


def test_publish_validates_and_keeps_nothing_on_error():
    organiser = make_organiser()
    with pytest.raises(ApplicationError):
        announcement_publish(
            actor=organiser, title="Late", expires_at=timezone.now() - timedelta(minutes=1)
        )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        announcement_publish(actor=organiser, title="   ")
    assert Announcement.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_banner_on_pages_follows_audience_expiry_and_withdrawal(
    client, django_capture_on_commit_callbacks
):
    organiser = make_organiser()
    with django_capture_on_commit_callbacks(execute=True):
        everyone = announcement_publish(actor=organiser, title="Welcome to the fair")
        for_exhibitors = announcement_publish(
            actor=organiser, title="Booth deadline Friday", audience="exhibitors"
        )

    page = client.get(reverse("home")).content.decode()
    assert "Welcome to the fair" in page
    assert "Booth deadline Friday" not in page  # anonymous visitors are not exhibitors

    with django_capture_on_commit_callbacks(execute=True):
        announcement_withdraw(actor=organiser, announcement_id=everyone.pk)
    page = client.get(reverse("home")).content.decode()
    assert "Welcome to the fair" not in page
    assert AuditEntry.objects.filter(action="announcement.withdraw").count() == 1
    with pytest.raises(ApplicationError):
        announcement_withdraw(actor=organiser, announcement_id=everyone.pk)
    assert for_exhibitors.withdrawn_at is None


def test_announcement_archive_lists_what_the_reader_may_see(
    client, django_capture_on_commit_callbacks
):
    organiser = make_organiser()
    with django_capture_on_commit_callbacks(execute=True):
        announcement_publish(actor=organiser, title="Shuttle buses every hour")
        announcement_publish(actor=organiser, title="Exhibitor badge pickup", audience="exhibitors")

    page = client.get(reverse("announcements")).content.decode()

    assert "Shuttle buses every hour" in page
    assert "Exhibitor badge pickup" not in page


# --- Dashboard snapshot --------------------------------------------------------------------------


def test_dashboard_snapshot_computes_each_part_once_per_interval(monkeypatch):
    from django.core.cache import cache

    calls = []

    def provider(ctx):
        calls.append(ctx.now)
        return {"n": len(calls)}

    monkeypatch.setattr(dashboard, "_PROVIDERS", {})
    cache.delete_many([dashboard.CACHE_PREFIX + "probe", dashboard.LOCK_PREFIX + "probe"])
    dashboard.register_figures("probe", provider, every=60)

    first = dashboard.dashboard_snapshot()
    second = dashboard.dashboard_snapshot()

    assert first["probe"] == {"n": 1}
    assert second["probe"] == {"n": 1}
    assert len(calls) == 1
    assert dashboard.dashboard_snapshot(force=True)["probe"] == {"n": 2}


def test_dashboard_stale_part_is_recomputed_by_one_caller(monkeypatch):
    from django.core.cache import cache

    calls = []
    monkeypatch.setattr(dashboard, "_PROVIDERS", {})
    cache.delete_many([dashboard.CACHE_PREFIX + "probe", dashboard.LOCK_PREFIX + "probe"])
    dashboard.register_figures("probe", lambda ctx: calls.append(1) or {"n": len(calls)}, every=5)
    dashboard.dashboard_snapshot()
    # Make the part stale; another caller holds the lock: the stale figures are served.
    entry = cache.get(dashboard.CACHE_PREFIX + "probe")
    entry["at"] -= 10
    cache.set(dashboard.CACHE_PREFIX + "probe", entry)
    cache.set(dashboard.LOCK_PREFIX + "probe", 1, 5)

    assert dashboard.dashboard_snapshot()["probe"] == {"n": 1}
    cache.delete(dashboard.LOCK_PREFIX + "probe")
    assert dashboard.dashboard_snapshot()["probe"] == {"n": 2}
    assert len(calls) == 2
