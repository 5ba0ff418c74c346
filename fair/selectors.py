"""Reads of the fair core used by several pages."""

from __future__ import annotations

from django.core.cache import cache

from fair.models import Category, FairEdition, Notice, User

_EDITION_CACHE_KEY = "fair:edition:current"


def fair_edition_current() -> FairEdition | None:
    """The running (or next, or last) edition; cached for a minute because every page shows
    it. Editions change a few times a year; the organiser's save clears the cache."""
    edition = cache.get(_EDITION_CACHE_KEY)
    if edition is None:
        edition = FairEdition.objects.current() or False
        cache.set(_EDITION_CACHE_KEY, edition, 60)
    return edition or None


def fair_edition_cache_clear() -> None:
    cache.delete(_EDITION_CACHE_KEY)


def category_tree() -> list[Category]:
    """Top-level categories with their sections prefetched (two queries in all)."""
    return list(
        Category.objects.filter(parent__isnull=True)
        .prefetch_related("children")
        .order_by("position", "name")
    )


def notices_unread(user: User, limit: int = 20) -> list[Notice]:
    if not user.is_authenticated:
        return []
    return list(Notice.objects.filter(user=user, read_at__isnull=True)[:limit])
