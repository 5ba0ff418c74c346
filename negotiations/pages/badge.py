"""The navigation bar's badge: how many of the user's rooms (as a buyer, and in the shared
inboxes of their companies) have unread messages.

It is on every page a signed-in user opens, so it is cached per user for
``NAV_BADGE_SECONDS`` instead of counted on each page view (the count looks at every room
of the user and of their companies). The pages that change or show what it counts refresh
it: the room page (which marks the room read) and the inboxes.

**Live.** ``static/negotiations/js/nav.js`` keeps the badge current without a reload:

* on the negotiation pages (room, "My negotiations", the shared inbox), which hold the
  ``/ws/negotiations/`` socket anyway, the socket's ``nego.ready`` gives the count and every
  frame that can change it (a new message or room, a read marker) asks ``unread_json`` again
  (debounced: one request for a burst of frames);
* on every other page no socket is opened (a socket per page view would double the cost of
  browsing the fair: a handshake, a session lookup, this count and presence bookkeeping for
  each click): the badge asks ``unread_json`` when the tab comes back into view or regains
  focus (at most every ``NAV_REFRESH_SECONDS`` in the script), and follows, through a
  ``BroadcastChannel``, a negotiation page open in another tab of the same browser."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from negotiations.selectors import negotiations_unread_count

NAV_BADGE_SECONDS = 30


def _key(user_id: int) -> str:
    return f"nego:nav-unread:{user_id}"


def nav_unread(user) -> int:
    """The badge's number for ``user`` (0 for visitors): cached, one query when it is not."""
    if user is None or not user.is_authenticated:
        return 0
    count = cache.get(_key(user.pk))
    if count is None:
        count = negotiations_unread_count(user=user)
        cache.set(_key(user.pk), count, NAV_BADGE_SECONDS)
    return count


def nav_unread_refresh(user) -> int:
    """Count now (one query) and keep it for the next pages' badge."""
    count = negotiations_unread_count(user=user)
    cache.set(_key(user.pk), count, NAV_BADGE_SECONDS)
    return count


def nav_unread_forget(user_id: int) -> None:
    """Count again on the next page (the user just read a room, or looks at an inbox)."""
    cache.delete(_key(user_id))


@require_GET
def unread_json(request: HttpRequest) -> JsonResponse:
    """``{"unread": n}``: the badge's number, counted now (the live badge asks after frames
    that change it). Signed-out visitors get 403 (a script asks, not a person: no log-in
    redirect). Never cached by the browser."""
    user = request.user
    if not user.is_authenticated:
        response = JsonResponse({"detail": _("Log in to see your negotiations.")}, status=403)
    else:
        response = JsonResponse({"unread": nav_unread_refresh(user)})
    response["Cache-Control"] = "private, no-store"
    return response
