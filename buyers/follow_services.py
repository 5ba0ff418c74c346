"""Following booths: a buyer follows an exhibitor to hear about its sessions and launches.

``Exhibitor.follower_count`` is denormalised: it moves in the same transaction as the
``Follow`` row, with an ``F()`` expression (no read-modify-write), and only when a row was
really created or deleted, so following twice, or two requests racing, count once."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from buyers.models import BuyerProfile, Follow
from exhibitors.models import Exhibitor
from exhibitors.selectors import exhibitors_public
from fair.exceptions import ApplicationError, NotFound
from fair.models import User


def _require_buyer(user: User) -> None:
    if not user.is_authenticated or not user.is_active:
        raise ApplicationError(_("Log in with a buyer account to follow booths."), code="login")
    if not BuyerProfile.objects.filter(user=user).exists():
        raise ApplicationError(
            _("Only buyer accounts can follow booths. This account has no buyer profile."),
            code="not_a_buyer",
        )


@transaction.atomic
def follow_exhibitor(*, user: User, exhibitor_id: int) -> Follow:
    """Follow an approved exhibitor; following again returns the existing follow and
    changes nothing. Raises ApplicationError for non-buyers, NotFound for an exhibitor that
    is not public."""
    _require_buyer(user)
    if not exhibitors_public().filter(pk=exhibitor_id).exists():
        raise NotFound("No such exhibitor.")
    # A concurrent follow of the same pair blocks on the unique index, then get_or_create
    # finds its row: exactly one of the two increments the count.
    follow, created = Follow.objects.get_or_create(user=user, exhibitor_id=exhibitor_id)
    if created:
        Exhibitor.objects.filter(pk=exhibitor_id).update(follower_count=F("follower_count") + 1)
    return follow


@transaction.atomic
def unfollow_exhibitor(*, user: User, exhibitor_id: int) -> bool:
    """Stop following; True if a follow was removed, False if there was none (unfollowing
    twice changes nothing). Works whatever the exhibitor's status, so a buyer can always
    tidy up."""
    if not user.is_authenticated:
        raise ApplicationError(_("Log in to manage the booths you follow."), code="login")
    deleted, _rows = Follow.objects.filter(user=user, exhibitor_id=exhibitor_id).delete()
    if deleted:
        Exhibitor.objects.filter(pk=exhibitor_id, follower_count__gt=0).update(
            follower_count=F("follower_count") - 1
        )
    return bool(deleted)
