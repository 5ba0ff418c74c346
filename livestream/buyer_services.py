"""The buyer-side writes of the live-video app: asking to be reminded of a session, and
taking it back. The reminder itself goes out from ``livestream.tasks.reminders_send``
(exactly once, about 15 minutes before the start)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fair.exceptions import ApplicationError, NotFound
from fair.models import User
from livestream.models import LiveSession, SessionReminder
from livestream.selectors import sessions_public, user_is_buyer


def _require_buyer(user: User) -> None:
    if not user.is_authenticated or not user.is_active:
        raise ApplicationError(_("Log in with a buyer account to get reminders."), code="login")
    if not user_is_buyer(user):
        raise ApplicationError(
            _(
                "Reminders are for buyer accounts, and this account has no buyer profile. "
                "Add the session to your calendar instead."
            ),
            code="not_a_buyer",
        )


@transaction.atomic
def session_reminder_add(*, user: User, session_id: int) -> SessionReminder:
    """Remind this buyer of a public session that has not started. Asking twice keeps the
    one reminder (the unique constraint settles a race: ``get_or_create`` finds the row the
    other request made). Raises NotFound for a session that is not public."""
    _require_buyer(user)
    session = sessions_public().filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session.")
    if session.status != LiveSession.Status.SCHEDULED:
        raise ApplicationError(
            _("This session has already started.")
            if session.status == LiveSession.Status.LIVE
            else _("This session is over."),
            code="not_upcoming",
        )
    reminder, _created = SessionReminder.objects.get_or_create(session=session, user=user)
    return reminder


@transaction.atomic
def session_reminder_remove(*, user: User, session_id: int) -> bool:
    """Forget this user's reminder of a session; True when there was one. Works for any
    session (a buyer may drop the reminder of a session that was cancelled meanwhile)."""
    if not user.is_authenticated:
        return False
    deleted, _details = SessionReminder.objects.filter(user=user, session_id=session_id).delete()
    return deleted > 0
