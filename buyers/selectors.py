"""Permission-relevant reads of the buyers app."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from buyers.models import BuyerProfile, Follow
from exhibitors.models import Exhibitor
from fair.models import User


def is_following(*, user: User, exhibitor_id: int) -> bool:
    if not user.is_authenticated:
        return False
    return Follow.objects.filter(user=user, exhibitor_id=exhibitor_id).exists()


def follows_of(*, user: User) -> QuerySet[Follow]:
    """The booths ``user`` follows that are public now (a suspended exhibitor drops out of
    the list; the follow stays and comes back with the exhibitor), newest first."""
    if not user.is_authenticated:
        return Follow.objects.none()
    return (
        Follow.objects.filter(user=user, exhibitor__status=Exhibitor.Status.APPROVED)
        .select_related("exhibitor", "exhibitor__booth", "exhibitor__booth__section")
        .order_by("-created_at", "-pk")
    )


# --- The "buyers" audience (registered with fair.audiences in BuyersConfig.ready) ----------


def audience_buyers_includes(user: User) -> bool:
    """The "buyers" audience: every account with a buyer profile."""
    if not user.is_authenticated:
        return False
    return BuyerProfile.objects.filter(user=user).exists()


def audience_buyers_users() -> QuerySet[User]:
    return User.objects.filter(Exists(BuyerProfile.objects.filter(user=OuterRef("pk"))))
