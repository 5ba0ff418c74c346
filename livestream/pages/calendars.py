"""Calendar files: one session's ``.ics`` download and a buyer's personal feed, whose URL
carries a signed token of the user id (stateless: a wrong token is a 404)."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fair.models import User
from livestream.calendar import CalendarEvent, calendar_build
from livestream.models import LiveSession
from livestream.selectors import session_public_get, sessions_for_feed

FEED_SALT = "livestream.calendar-feed"
FEED_HISTORY = timedelta(days=1)


def _calendar_event(request: HttpRequest, session: LiveSession) -> CalendarEvent:
    room_url = request.build_absolute_uri(reverse("livestream:room", args=[session.pk]))
    parts = [
        _("A live session by %(company)s at CloudFair.")
        % {"company": session.exhibitor.display_name},
        session.description,
        _("Watch: %(url)s") % {"url": room_url},
    ]
    return CalendarEvent(
        uid=f"live-session-{session.pk}@{request.get_host().split(':')[0]}",
        start=session.scheduled_start,
        end=session.scheduled_end,
        summary=f"{session.title} · {session.exhibitor.display_name}",
        description="\n\n".join(p for p in parts if p),
        url=room_url,
        updated=session.updated_at,
    )


def _calendar_response(body: str, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_GET
def session_ics(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_public_get(session_id=session_id)
    body = calendar_build([_calendar_event(request, session)])
    return _calendar_response(body, filename=f"cloudfair-session-{session.pk}.ics", attachment=True)


def feed_token(user: User) -> str:
    """The secret of a buyer's calendar feed URL: the user id, signed (stateless)."""
    return signing.dumps(user.pk, salt=FEED_SALT)


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A buyer's personal feed: sessions they asked to be reminded of and sessions of the
    booths they follow. A wrong token answers 404, like a missing page."""
    try:
        user_id = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature as exc:
        raise Http404("No such feed.") from exc
    user = (
        User.objects.filter(pk=user_id, is_active=True).first()
        if isinstance(user_id, int)
        else None
    )
    if user is None:
        raise Http404("No such feed.")
    sessions = sessions_for_feed(user=user, since=timezone.now() - FEED_HISTORY)
    body = calendar_build(
        [_calendar_event(request, s) for s in sessions], name=_("CloudFair: my live sessions")
    )
    response = _calendar_response(body, filename="cloudfair-my-sessions.ics", attachment=False)
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response
