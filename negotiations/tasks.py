"""Background jobs of the negotiations app. Each takes ids, is idempotent (brokers redeliver;
beat may run twice) and is queued only after the transaction that asked for it commits.

* ``negotiation_notify_offline``: queued by the services on commit of a new message (at
  most one pending per room, see ``negotiations.services``): emails each party who has
  unread messages in the room and no negotiations socket open (``negotiations.presence``),
  at most once per room and recipient per ten minutes (a Redis key claimed with ``add``
  before the mail goes out, so two runs never both send). The mail carries no message
  contents: only who wrote and a link, in the recipient's language.
* ``quotes_expire``: beat, every minute: open quotes past their validity expire."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: At most one email per room and recipient in this many seconds.
MAIL_INTERVAL_SECONDS = 600


def mailed_key(negotiation_id: int, user_id: int) -> str:
    return f"nego:mailed:{negotiation_id}:{user_id}"


def room_url(negotiation_id: int) -> str:
    base = getattr(settings, "SITE_URL", "") or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}/negotiations/{negotiation_id}/"


def _mail(user, negotiation, *, unread: int, other: str) -> None:
    with translation.override(user.language):
        subject = _("New message from %(other)s on CloudFair") % {"other": other}
        body = _(
            "Hello %(name)s,\n\n"
            "you have %(unread)s unread message(s) in your negotiation with %(other)s.\n"
            "Read and answer them here:\n%(url)s\n\n"
            "You receive at most one such email per negotiation every ten minutes, and none "
            "while the negotiation is open in your browser.\n"
        ) % {
            "name": user.get_short_name(),
            "unread": unread,
            "other": other,
            "url": room_url(negotiation.pk),
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@shared_task
def negotiation_notify_offline(*, negotiation_id: int) -> int:
    """Email the room's offline parties about unread messages; returns how many mails went."""
    from exhibitors.models import ExhibitorMember
    from negotiations.models import Negotiation
    from negotiations.presence import presence
    from negotiations.services import notify_forget, notify_pending_key

    # From now on a new message queues a new run (this one may not see it).
    cache.delete(notify_pending_key(negotiation_id))
    notify_forget(negotiation_id)
    negotiation = (
        Negotiation.objects.select_related("buyer", "buyer__buyer_profile", "exhibitor")
        .filter(pk=negotiation_id)
        .first()
    )
    if negotiation is None:
        return 0
    recipients = []
    buyer_unread = negotiation.last_seq - negotiation.buyer_last_read_seq
    if buyer_unread > 0 and negotiation.buyer.is_active:
        recipients.append((negotiation.buyer, buyer_unread, negotiation.exhibitor.display_name))
    staff_unread = negotiation.last_seq - negotiation.exhibitor_last_read_seq
    if staff_unread > 0:
        staff = ExhibitorMember.objects.filter(
            exhibitor_id=negotiation.exhibitor_id, user__is_active=True
        ).select_related("user")
        if negotiation.assigned_to_id is not None:
            assigned = staff.filter(user_id=negotiation.assigned_to_id)
            staff = assigned if assigned.exists() else staff
        buyer_name = negotiation.buyer.full_name or negotiation.buyer.get_short_name()
        profile = getattr(negotiation.buyer, "buyer_profile", None)
        if profile is not None and profile.company:
            buyer_name = f"{buyer_name} ({profile.company})"
        recipients.extend((member.user, staff_unread, buyer_name) for member in staff)
    sent = 0
    for user, unread, other in recipients:
        if presence.online(user.pk):
            continue
        if not cache.add(mailed_key(negotiation_id, user.pk), 1, timeout=MAIL_INTERVAL_SECONDS):
            continue
        try:
            _mail(user, negotiation, unread=unread, other=other)
        except Exception:
            cache.delete(mailed_key(negotiation_id, user.pk))
            raise
        sent += 1
    return sent


@shared_task
def quotes_expire() -> int:
    """Expire open quotes past their validity (beat, every minute). Idempotent."""
    from negotiations.services import quotes_expire as expire

    return expire()
