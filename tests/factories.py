"""Small factories: plain functions building valid objects through the real services."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group

from buyers.services import buyer_sign_up
from fair.models import ORGANISERS_GROUP, User

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@example.test"


def make_user(*, email: str | None = None, password: str = PASSWORD, **extra) -> User:
    extra.setdefault("full_name", "Test User")
    return User.objects.create_user(email=email or unique_email(), password=password, **extra)


def make_buyer(
    *,
    email: str | None = None,
    password: str = PASSWORD,
    full_name: str = "Anne Buyer",
    company: str = "Buyer Co",
    country: str = "SA",
    **extra,
) -> User:
    return buyer_sign_up(
        email=email or unique_email("buyer"),
        password=password,
        full_name=full_name,
        company=company,
        country=country,
        buyer_type=extra.pop("buyer_type", "importer"),
        **extra,
    )


def make_organiser(*, email: str | None = None, password: str = PASSWORD) -> User:
    user = make_user(email=email or unique_email("organiser"), password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=ORGANISERS_GROUP))
    return user
