"""Housekeeping jobs run by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task
def sessions_clear_expired() -> int:
    """Delete expired login sessions; returns how many went. Idempotent."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task
def login_attempts_prune(days: int = 30) -> int:
    """Drop login-attempt records older than ``days`` (the lockout window is 15 minutes; the
    rest is kept for the security log). Idempotent."""
    from axes.models import AccessAttempt, AccessFailureLog

    cutoff = timezone.now() - timedelta(days=days)
    deleted = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return deleted


@shared_task
def announcement_emails_send(*, announcement_id: int, after_user_id: int = 0) -> int:
    """Email one batch of an announcement's audience (users with ids above
    ``after_user_id``, in id order), over one mail connection, each in the reader's
    language; then queue the next batch. Returns how many were sent in this batch."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection
    from django.db.models import F
    from django.template.loader import render_to_string
    from django.utils import translation

    from fair.audiences import audience_users
    from fair.models import Announcement

    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None or announcement.email_status == Announcement.EmailStatus.SENT:
        return 0
    batch_size = int(getattr(settings, "ANNOUNCEMENT_EMAIL_BATCH", 200))
    users = list(
        audience_users(announcement.audience)
        .filter(pk__gt=after_user_id)
        .order_by("pk")
        .only("pk", "email", "language", "full_name")[:batch_size]
    )
    messages = []
    for user in users:
        with translation.override(user.language):
            context = {"announcement": announcement, "user": user, "site_url": settings.SITE_URL}
            subject = render_to_string("fair/email/announcement_subject.txt", context).strip()
            body = render_to_string("fair/email/announcement_body.txt", context)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    sent = get_connection().send_messages(messages) if messages else 0
    done = len(users) < batch_size
    Announcement.objects.filter(pk=announcement_id).update(
        email_sent=F("email_sent") + len(users),
        email_status=Announcement.EmailStatus.SENT if done else Announcement.EmailStatus.SENDING,
    )
    if not done:
        announcement_emails_send.delay(announcement_id=announcement_id, after_user_id=users[-1].pk)
    return sent or 0
