"""Background jobs of the live-video app: reminders, change notices, replays. Each takes
ids and is idempotent (brokers redeliver; beat may run twice)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from fair.services import notice_create

logger = logging.getLogger(__name__)

REMINDER_LEAD = timedelta(minutes=15)


def _send_session_mail(user, session, template: str) -> None:
    """The email, and the same news as an in-app notice (in the user's language and zone)."""
    with translation.override(user.language), timezone.override(user.time_zone or "UTC"):
        context = {"session": session, "user": user}
        subject = render_to_string(f"livestream/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"livestream/email/{template}_body.txt", context)
    notice_create(user_id=user.pk, text=subject, url=reverse("livestream:room", args=[session.pk]))
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@shared_task
def reminders_send() -> int:
    """Email every buyer whose session starts within 15 minutes, exactly once: each
    reminder is claimed with a conditional UPDATE before its mail goes out, so two beat runs
    (or two workers) never both send it. Returns how many were sent."""
    from livestream.models import LiveSession, SessionReminder

    now = timezone.now()
    due = (
        SessionReminder.objects.filter(
            notified_at__isnull=True,
            session__status=LiveSession.Status.SCHEDULED,
            session__scheduled_start__gt=now,
            session__scheduled_start__lte=now + REMINDER_LEAD,
        )
        .select_related("session", "session__exhibitor", "user")
        .order_by("session__scheduled_start")[:1000]
    )
    sent = 0
    for reminder in due:
        claimed = SessionReminder.objects.filter(pk=reminder.pk, notified_at__isnull=True).update(
            notified_at=now
        )
        if not claimed:
            continue
        _send_session_mail(reminder.user, reminder.session, "reminder")
        sent += 1
    return sent


@shared_task
def session_changed_notify(*, session_id: int, change: str) -> int:
    """Tell the buyers who asked to be reminded that a session moved or was cancelled."""
    from livestream.models import LiveSession, SessionReminder

    session = LiveSession.objects.select_related("exhibitor").filter(pk=session_id).first()
    if session is None:
        return 0
    template = "cancelled" if change == "cancelled" else "rescheduled"
    sent = 0
    for reminder in SessionReminder.objects.filter(session=session).select_related("user"):
        _send_session_mail(reminder.user, session, template)
        sent += 1
    return sent


# The replay task lives with the replay code; importing it here registers it.
from livestream.replays import session_replay_make  # noqa: E402,F401
