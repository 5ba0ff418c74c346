"""Announcements: an organiser talks to everyone at the fair, or to exhibitors or buyers.

Publishing stores the announcement and its audit entry in one transaction; once it commits,
the announcement is broadcast to every open page of its audience (the notices socket) and,
if asked, emailed in batches by Celery. Pages also show the announcements still showing
when they load, so a page opened later, or one that missed the broadcast, has them too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fair.audiences import audience_users, audiences_of
from fair.audit import audit_record
from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import Announcement, User
from fair.realtime import audience_group, send_event_on_commit

SHOWING_CACHE_KEY = "announcements:showing"
SHOWING_CACHE_SECONDS = 30
AUDIENCES_CACHE_SECONDS = 300
#: Banners on a page at most (the newest ones); the list page has them all.
SHOWING_LIMIT = 3


def _require_organiser(actor: User) -> None:
    if not actor.is_authenticated or not actor.is_organiser:
        raise Forbidden(_("Only organisers can do this."))


def _utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def announcement_payload(announcement: Announcement) -> dict[str, Any]:
    return {
        "id": announcement.pk,
        "title": announcement.title,
        "body": announcement.body,
        "url": announcement.url,
        "audience": announcement.audience,
        "created_at": _utc_iso(announcement.created_at),
        "expires_at": _utc_iso(announcement.expires_at) if announcement.expires_at else None,
    }


@transaction.atomic
def announcement_publish(
    *,
    actor: User,
    title: str,
    body: str = "",
    audience: str = Announcement.Audience.EVERYONE,
    url: str = "",
    expires_at: datetime | None = None,
    send_email: bool = False,
) -> Announcement:
    _require_organiser(actor)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("“Shown until” must be in the future."), code="expires_at")
    announcement = Announcement(
        title=title.strip(),
        body=body.strip(),
        audience=audience,
        url=url.strip(),
        expires_at=expires_at,
        created_by=actor,
        send_email=send_email,
    )
    announcement.full_clean(
        exclude=["created_by", "email_status", "email_total", "email_sent", "withdrawn_at"]
    )
    if send_email:
        announcement.email_status = Announcement.EmailStatus.QUEUED
        announcement.email_total = audience_users(audience).count()
    announcement.save()
    audit_record(
        actor=actor,
        action="announcement.publish",
        target=announcement,
        data={"audience": audience, "email": send_email},
    )
    send_event_on_commit(
        audience_group(audience),
        {"type": "announcement", "announcement": announcement_payload(announcement)},
    )
    transaction.on_commit(lambda: cache.delete(SHOWING_CACHE_KEY))
    if send_email:
        from fair.tasks import announcement_emails_send

        announcement_emails_send.delay_on_commit(announcement_id=announcement.pk)
    return announcement


@transaction.atomic
def announcement_withdraw(*, actor: User, announcement_id: int) -> Announcement:
    """Take a banner down everywhere at once (emails already sent stay sent)."""
    _require_organiser(actor)
    announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
    if announcement is None:
        raise NotFound(_("No such announcement."))
    if announcement.withdrawn_at is not None:
        raise ApplicationError(_("This announcement was already withdrawn."))
    announcement.withdrawn_at = timezone.now()
    announcement.save(update_fields=["withdrawn_at"])
    audit_record(actor=actor, action="announcement.withdraw", target=announcement)
    send_event_on_commit(
        audience_group(announcement.audience),
        {"type": "announcement.withdrawn", "id": announcement.pk},
    )
    transaction.on_commit(lambda: cache.delete(SHOWING_CACHE_KEY))
    return announcement


def announcements_showing_all() -> list[dict[str, Any]]:
    """Every announcement showing now (newest first), cached briefly for every page."""
    showing = cache.get(SHOWING_CACHE_KEY)
    if showing is None:
        now = timezone.now()
        showing = [
            announcement_payload(a)
            for a in Announcement.objects.filter(withdrawn_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .order_by("-created_at")[:20]
        ]
        cache.set(SHOWING_CACHE_KEY, showing, SHOWING_CACHE_SECONDS)
    now_iso = _utc_iso(timezone.now())
    return [a for a in showing if a["expires_at"] is None or a["expires_at"] > now_iso]


def user_audiences(user: User) -> list[str]:
    """The audiences of a user, cached a few minutes (two small queries otherwise)."""
    if not user.is_authenticated:
        return ["everyone"]
    key = f"audiences:{user.pk}"
    names = cache.get(key)
    if names is None:
        names = audiences_of(user)
        cache.set(key, names, AUDIENCES_CACHE_SECONDS)
    return ["everyone", *names]


def announcements_for(user: User) -> list[dict[str, Any]]:
    """The banners a page shows this user: showing announcements of their audiences."""
    showing = announcements_showing_all()
    if not showing:
        return []
    if all(a["audience"] == "everyone" for a in showing):
        return showing[:SHOWING_LIMIT]
    mine = set(user_audiences(user))
    return [a for a in showing if a["audience"] in mine][:SHOWING_LIMIT]
