"""Background jobs of the live-video app: reminders, change notices, replays. Each takes
ids and is idempotent (brokers redeliver; beat may run twice)."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
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


#: Seconds the media server's control endpoint may take to answer.
MEDIA_CONTROL_TIMEOUT = 5


@shared_task
def media_publisher_drop(*, public_id: str) -> int:
    """Ask the media server to drop the publisher of channel ``public_id`` now, through
    nginx-rtmp's control endpoint (``MEDIA_CONTROL_URL``, e.g. ``http://media:8082/control``,
    which checks the shared callback secret). Returns how many publishers were dropped
    (nginx answers the count), or -1 when the call failed or no endpoint is configured:
    nothing else depends on it, since the ``on_update`` callback refuses the stream within
    10 s anyway. Idempotent (dropping nobody is fine), so it is never retried."""
    base = getattr(settings, "MEDIA_CONTROL_URL", "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        logger.info("MEDIA_CONTROL_URL is not set: the publisher stops at its next update")
        return -1
    query = urllib.parse.urlencode({"app": "live", "name": public_id})
    request = urllib.request.Request(  # noqa: S310 (http or https only, checked above)
        f"{base}/drop/publisher?{query}",
        headers={"X-Media-Callback-Secret": settings.MEDIA_STREAM_CALLBACK_SECRET},
    )
    try:
        with urllib.request.urlopen(request, timeout=MEDIA_CONTROL_TIMEOUT) as response:  # noqa: S310 (as above)
            body = response.read(64).decode("ascii", "replace").strip()
    except urllib.error.HTTPError as error:
        logger.warning("media server refused the drop of %s: HTTP %s", public_id, error.code)
        return -1
    except (OSError, ValueError) as error:
        logger.warning("media server unreachable to drop %s: %s", public_id, error)
        return -1
    return int(body) if body.isdigit() else 0


# The replay task lives with the replay code; importing it here registers it.
from livestream.replays import session_replay_make  # noqa: E402,F401
