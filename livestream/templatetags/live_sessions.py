"""Template tags through which pages of lower apps show sessions (a booth's upcoming
sessions, the next session of each followed booth) without importing livestream code."""

from __future__ import annotations

from django import template
from django.utils import timezone

from livestream.models import LiveSession

register = template.Library()


def _current_or_upcoming():
    return (
        LiveSession.objects.public()
        .filter(
            status__in=[LiveSession.Status.SCHEDULED, LiveSession.Status.LIVE],
            scheduled_end__gt=timezone.now(),
        )
        .order_by("scheduled_start")
    )


@register.inclusion_tag("livestream/_upcoming_sessions.html")
def upcoming_sessions(exhibitor, limit: int = 5):
    """The exhibitor's live and upcoming sessions (one query)."""
    sessions = list(_current_or_upcoming().filter(exhibitor=exhibitor)[:limit])
    return {"sessions": sessions, "exhibitor": exhibitor}


@register.simple_tag
def next_sessions(items) -> dict[int, LiveSession]:
    """{exhibitor id: its live or next session} for a list of exhibitors (or of objects with
    an ``exhibitor_id``, such as follows), in one query."""
    ids = [getattr(item, "exhibitor_id", None) or item.pk for item in items]
    found: dict[int, LiveSession] = {}
    if not ids:
        return found
    for session in _current_or_upcoming().filter(exhibitor_id__in=ids):
        found.setdefault(session.exhibitor_id, session)
    return found


@register.filter
def session_of(sessions: dict, exhibitor) -> LiveSession | None:
    return sessions.get(getattr(exhibitor, "pk", exhibitor))
