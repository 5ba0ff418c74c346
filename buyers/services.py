"""Writes of the buyers app."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from buyers.models import BuyerProfile
from fair.exceptions import ApplicationError
from fair.models import Category, User


@transaction.atomic
def buyer_sign_up(
    *,
    email: str,
    password: str,
    full_name: str,
    company: str,
    country: str,
    buyer_type: str,
    interests: Iterable[Category] = (),
    show_identity_in_rooms: bool = False,
    share_contact_in_negotiations: bool = False,
    language: str = "en",
) -> User:
    """Create a buyer account and its profile together (both or neither).

    The email is unique without regard to letter case; the database constraint decides when
    two sign-ups race, and the loser gets the same message as the form gives."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name.strip(), language=language
            )
    except IntegrityError as exc:
        raise ApplicationError(
            _("An account with this email address already exists."), code="duplicate_email"
        ) from exc
    profile = BuyerProfile.objects.create(
        user=user,
        company=company.strip(),
        country=country,
        buyer_type=buyer_type,
        show_identity_in_rooms=show_identity_in_rooms,
        share_contact_in_negotiations=share_contact_in_negotiations,
    )
    profile.interests.set(interests)
    return user


@transaction.atomic
def buyer_profile_update(*, profile: BuyerProfile, data: dict) -> BuyerProfile:
    """Save the profile fields a buyer may edit (named, never taken from request keys)."""
    for field in (
        "company",
        "country",
        "buyer_type",
        "show_identity_in_rooms",
        "share_contact_in_negotiations",
    ):
        setattr(profile, field, data[field])
    profile.save()
    profile.interests.set(data["interests"])
    return profile
