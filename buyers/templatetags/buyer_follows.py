"""``{% follow_button exhibitor %}``: the Follow / Unfollow button for a booth page.

The exhibitors app may not import buyers (DESIGN.md: dependencies point one way), so the
booth page composes the button in its template through this tag."""

from __future__ import annotations

from django import template

from buyers.models import BuyerProfile
from buyers.selectors import is_following

register = template.Library()


def _is_buyer(user) -> bool:
    # Reuses the profile the page header already loaded (no second query).
    try:
        return user.buyer_profile is not None
    except BuyerProfile.DoesNotExist:
        return False


@register.inclusion_tag("buyers/_follow_button.html", takes_context=True)
def follow_button(context, exhibitor) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    can_follow = signed_in and _is_buyer(user)
    return {
        "exhibitor": exhibitor,
        "signed_in": signed_in,
        "can_follow": can_follow,
        "following": can_follow and is_following(user=user, exhibitor_id=exhibitor.pk),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }
