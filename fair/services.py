"""Writes of the fair core (accounts and preferences)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from fair.models import Notice, User, validate_time_zone


@transaction.atomic
def user_preferences_update(*, user: User, full_name: str, language: str, time_zone: str) -> User:
    """Save the account's display name, language and time zone (an empty zone means: follow
    the browser)."""
    if time_zone:
        validate_time_zone(time_zone)
    user.full_name = full_name.strip()
    user.language = language
    user.time_zone = time_zone
    user.full_clean(exclude=["password", "email"])
    user.save(update_fields=["full_name", "language", "time_zone"])
    return user


def user_language_set(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def notice_create(*, user_id: int, text: str, url: str = "") -> Notice:
    """An in-app notice (text already in the user's language)."""
    return Notice.objects.create(user_id=user_id, text=text[:300], url=url[:300])


def notices_mark_read(*, user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
