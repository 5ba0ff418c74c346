"""The chat's HTTP side: older messages when a reader scrolls up, and what the room page
needs to draw the chat (the socket does the rest, see ``livestream.consumers``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from livestream import chat
from livestream.models import LiveSession
from livestream.selectors import session_for_room


@require_GET
@never_cache
def chat_history(request: HttpRequest, session_id: int) -> JsonResponse:
    """``?before=<seq>``: up to 50 messages before it (ascending), else the latest 50; the
    same access as the room page (non-public sessions only for their company's staff)."""
    session, _membership = session_for_room(user=request.user, session_id=session_id)
    raw = request.GET.get("before", "")
    if raw and not raw.isdigit():
        return JsonResponse(
            {"detail": "before must be a message number.", "code": "invalid"}, status=400
        )
    messages, more = chat.chat_history(session_id=session.pk, before=int(raw) if raw else None)
    return JsonResponse({"messages": messages, "more_before": more})


def chat_context(request: HttpRequest, session: LiveSession, *, is_staff: bool) -> dict:
    """The ``chat`` of the room page's context (a few reads, once per page)."""
    user = request.user
    identity = chat.chat_identity(user=user, exhibitor_id=session.exhibitor_id, is_staff=is_staff)
    reason, until = "", None
    if identity is None:
        reason = "sign_in"
    else:
        restriction = (
            None
            if identity.is_moderator
            else chat.restriction_active(user_id=user.pk, exhibitor_id=session.exhibitor_id)
        )
        if restriction is not None:
            reason, until = chat.RESTRICTION_REASONS[restriction.kind], restriction.until
        elif session.status not in chat.OPEN_STATUSES:
            reason = "closed"
    room_url = reverse("livestream:room", args=[session.pk])
    return {
        "can_post": reason == "",
        "is_moderator": bool(identity and identity.is_moderator),
        "reason": reason,
        "muted_until": until,
        "history_url": reverse("livestream:chat_history", args=[session.pk]),
        "login_url": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': room_url})}",
        "max_length": chat.MAX_BODY_CHARS,
        "slow_mode": session.chat_slow_mode_seconds,
    }
