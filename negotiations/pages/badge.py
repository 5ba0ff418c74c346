"""The navigation bar's badge: how many of the user's rooms (as a buyer, and in the shared
inboxes of their companies) have unread messages.

It is on every page a signed-in user opens, so it is cached per user for
``NAV_BADGE_SECONDS`` instead of counted on each page view (the count looks at every room
of the user and of their companies). The pages that change or show what it counts refresh
it: the room page (which marks the room read) and the inboxes. A message that arrives while
the user browses other pages shows in the badge within ``NAV_BADGE_SECONDS``; the room page
itself is live."""

from __future__ import annotations

from django.core.cache import cache

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


def nav_unread_forget(user_id: int) -> None:
    """Count again on the next page (the user just read a room, or looks at an inbox)."""
    cache.delete(_key(user_id))
