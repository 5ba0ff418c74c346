"""Audiences the fair talks to (announcements, online figures): everyone, and the groups
that apps higher up define ("exhibitors" by the exhibitors app, "buyers" by the buyers app).

The fair core cannot import those apps, so they register here from ``AppConfig.ready``:
a check for one user (run once when a socket connects) and the queryset of members (for
emails)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from fair.models import User


@dataclass(frozen=True)
class Audience:
    name: str
    includes: Callable[[User], bool]
    users: Callable[[], QuerySet[User]]


_AUDIENCES: dict[str, Audience] = {}


def register_audience(
    name: str, *, includes: Callable[[User], bool], users: Callable[[], QuerySet[User]]
) -> None:
    _AUDIENCES[name] = Audience(name=name, includes=includes, users=users)


def audience_get(name: str) -> Audience | None:
    return _AUDIENCES.get(name)


def audiences_of(user: User) -> list[str]:
    """The named audiences a signed-in user belongs to (database work: call off the loop)."""
    if not user.is_authenticated:
        return []
    return [name for name, audience in sorted(_AUDIENCES.items()) if audience.includes(user)]


def audience_users(name: str) -> QuerySet[User]:
    """Active users of an audience; "everyone" is every active user."""
    if name == "everyone":
        return User.objects.filter(is_active=True)
    audience = _AUDIENCES[name]
    return audience.users().filter(is_active=True)
